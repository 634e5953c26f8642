// Live tuning of a prepared shared media.
#include "core/media/live_tuning.h"

namespace rtsptest::core {
namespace {

// RTCP sender reports tell a reader how to line up audio with video; many
// clients (ffmpeg among them) wait for the first one. rtpbin's default
// minimum interval is 5 s, so a reader joining a running stream could wait
// that long; 1 s costs a few bytes per second per reader.
constexpr guint64 kRtcpMinInterval = GST_SECOND;

// A live source already paces the stream at the wall clock, so the sinks
// need not wait for a buffer's time: unsynchronised, they send a packet as
// soon as it is encoded (as a camera does), and nothing sits in the send
// paths, which is what lets a joining reader's key-frame gate find them
// empty. gst-rtsp-server makes its RTP sinks (an appsink for TCP readers, a
// multiudpsink for UDP ones) wait for each buffer's time plus the pipeline
// latency, one frame of the live source or more; it adds them to the
// pipeline when the anchor or a first UDP reader needs them, so each one is
// switched over as it arrives.
void OnSinkAdded(GstBin*, GstElement* element, gpointer) {
  GstElementFactory* factory = gst_element_get_factory(element);
  if (factory == nullptr) return;
  const gchar* name = GST_OBJECT_NAME(factory);
  if (g_strcmp0(name, "appsink") == 0 || g_strcmp0(name, "multiudpsink") == 0) {
    g_object_set(element, "sync", FALSE, nullptr);
  }
}

}  // namespace

GstElement* PipelineOf(GstRTSPMedia* media) {
  GstElement* element = gst_rtsp_media_get_element(media);
  if (element == nullptr) return nullptr;
  GstObject* pipeline = gst_object_get_parent(GST_OBJECT(element));
  gst_object_unref(element);
  return pipeline != nullptr ? GST_ELEMENT(pipeline) : nullptr;
}

void ShortenRtcpInterval(GstRTSPMedia* media) {
  GstElement* pipeline = PipelineOf(media);
  if (pipeline == nullptr) return;
  GstIterator* it = gst_bin_iterate_all_by_element_factory_name(GST_BIN(pipeline), "rtpbin");
  GValue item = G_VALUE_INIT;
  if (it != nullptr && gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    GstElement* rtpbin = GST_ELEMENT(g_value_get_object(&item));
    for (guint i = 0; i < gst_rtsp_media_n_streams(media); ++i) {
      GObject* session = nullptr;
      g_signal_emit_by_name(rtpbin, "get-internal-session", i, &session);
      if (session == nullptr) continue;
      g_object_set(session, "rtcp-min-interval", kRtcpMinInterval, nullptr);
      g_object_unref(session);
    }
    g_value_unset(&item);
  }
  if (it != nullptr) gst_iterator_free(it);
  gst_object_unref(pipeline);
}

void SendAsSoonAsEncoded(GstRTSPMedia* media) {
  GstElement* pipeline = PipelineOf(media);
  if (pipeline == nullptr) return;
  g_signal_connect(pipeline, "element-added", G_CALLBACK(&OnSinkAdded), nullptr);
  gst_object_unref(pipeline);
}

}  // namespace rtsptest::core
