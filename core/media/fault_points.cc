// FindFaultPoints: the video encoder and the payloaders' pads.
#include "core/media/fault_points.h"

#include <cstring>

namespace rtsptest::core {

bool IsVideoEncoder(GstElement* element) {
  GstElementFactory* factory = gst_element_get_factory(element);
  if (factory == nullptr) return false;
  const gchar* klass = gst_element_factory_get_metadata(factory, GST_ELEMENT_METADATA_KLASS);
  // jpegenc (MJPEG streams) calls itself an image encoder.
  return klass != nullptr && (std::strstr(klass, "Encoder/Video") != nullptr ||
                              std::strstr(klass, "Encoder/Image") != nullptr);
}

namespace {

GstPtr<GstElement> FindVideoEncoder(GstElement* top) {
  if (IsVideoEncoder(top)) return GstPtr<GstElement>(GST_ELEMENT(gst_object_ref(top)));
  if (!GST_IS_BIN(top)) return nullptr;
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(top));
  GValue item = G_VALUE_INIT;
  GstPtr<GstElement> found;
  bool done = false;
  while (!done && found == nullptr) {
    switch (gst_iterator_next(it, &item)) {
      case GST_ITERATOR_OK: {
        auto* element = GST_ELEMENT(g_value_get_object(&item));
        if (IsVideoEncoder(element)) found.reset(GST_ELEMENT(gst_object_ref(element)));
        g_value_reset(&item);
        break;
      }
      case GST_ITERATOR_RESYNC:
        gst_iterator_resync(it);
        break;
      default:
        done = true;
        break;
    }
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return found;
}

}  // namespace

FaultPoints FindFaultPoints(GstRTSPMedia* media) {
  FaultPoints points;
  GstPtr<GstElement> top(gst_rtsp_media_get_element(media));
  if (top != nullptr) points.video_encoder = FindVideoEncoder(top.get());
  guint n = gst_rtsp_media_n_streams(media);
  for (guint i = 0; i < n; ++i) {
    GstPtr<GstPad> track(gst_rtsp_stream_get_srcpad(gst_rtsp_media_get_stream(media, i)));
    if (track == nullptr) continue;
    // The track pad is a ghost of the payloader's src pad (or that pad
    // itself when the payloader is the media's element).
    GstPtr<GstPad> src(GST_IS_GHOST_PAD(track.get())
                           ? gst_ghost_pad_get_target(GST_GHOST_PAD(track.get()))
                           : GST_PAD(gst_object_ref(track.get())));
    if (src == nullptr) continue;
    GstPtr<GstElement> payloader(gst_pad_get_parent_element(src.get()));
    if (payloader == nullptr) continue;
    GstPtr<GstPad> sink(gst_element_get_static_pad(payloader.get(), "sink"));
    if (sink == nullptr) continue;
    points.tracks.push_back({std::move(sink), std::move(src)});
  }
  return points;
}

}  // namespace rtsptest::core
