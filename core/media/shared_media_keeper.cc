// SharedMediaKeeper: prepare, anchor, release.
#include "core/media/shared_media_keeper.h"

#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/listener/fan_out.h"
#include "core/listener/send_workers.h"

namespace rtsptest::core {
namespace {

// How long a new stream may take to produce its first packets.
constexpr absl::Duration kStartTimeout = absl::Seconds(10);

// The anchor's transports discard what they are given, and report it sent at
// once, as a client whose socket never fills would. The report matters:
// gst-rtsp-server's TCP send thread (rtsp-stream.c, send_func) hands out one
// message per wake-up and is woken by new samples and by these reports. With
// no report, a wake-up spent on RTCP leaves the RTP sample in its appsink
// (max-buffers 1), the appsink blocks, the tee blocks, and the whole stream
// freezes, UDP readers included, until a real TCP reader's reports wake it.
// Called on that send thread with no stream lock held; the transport's
// backlog lock it takes again is recursive.
// The anchor is handed every RTP item exactly once, so it is also where the
// track's fan-out (core/listener/fan_out.h) takes them from.
struct AnchorSink {
  GstRTSPStreamTransport* anchor;  // borrowed: the sink lives as long as it
  // The RTP items handed out, for the track's key-frame gate; null if ungated.
  std::shared_ptr<RtpProgress> progress;
  std::shared_ptr<FanOut> fan_out;  // null when turned off

  template <typename Item>
  void Sent(Item* item, guint8 channel) {
    if (channel % 2 == 0) {
      if (progress != nullptr) progress->Saw(LastSequenceOf(item));
      if (fan_out != nullptr) fan_out->Deliver(item);
    } else if (fan_out != nullptr) {
      fan_out->DeliverRtcp(item);
    }
    gst_rtsp_stream_transport_message_sent(anchor);
  }
  static void Free(gpointer sink) { delete static_cast<AnchorSink*>(sink); }
};

gboolean DropBuffer(GstBuffer* buffer, guint8 channel, gpointer sink) {
  static_cast<AnchorSink*>(sink)->Sent(buffer, channel);
  return TRUE;
}
gboolean DropBufferList(GstBufferList* list, guint8 channel, gpointer sink) {
  static_cast<AnchorSink*>(sink)->Sent(list, channel);
  return TRUE;
}

// A TCP-interleaved transport description for track `index`.
GstRTSPTransport* NewTcpTransport(guint index) {
  GstRTSPTransport* transport = nullptr;
  gst_rtsp_transport_new(&transport);
  transport->trans = GST_RTSP_TRANS_RTP;
  transport->profile = GST_RTSP_PROFILE_AVP;
  transport->lower_transport = GST_RTSP_LOWER_TRANS_TCP;
  transport->mode_play = TRUE;
  transport->interleaved.min = static_cast<gint>(2 * index);
  transport->interleaved.max = static_cast<gint>(2 * index + 1);
  // gst-rtsp-server matches RTCP from UDP readers against every transport's
  // destination with g_ascii_strcasecmp, which asserts on NULL. No reader
  // sends from 0.0.0.0, so the anchor never matches one.
  transport->destination = g_strdup("0.0.0.0");
  return transport;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SharedMediaKeeper>> SharedMediaKeeper::Prepare(
    GstRTSPMediaFactory* factory, const std::string& path) {
  GstRTSPUrl* url = nullptr;
  std::string uri = absl::StrCat("rtsp://127.0.0.1", path);
  if (gst_rtsp_url_parse(uri.c_str(), &url) != GST_RTSP_OK) {
    return absl::InvalidArgumentError(absl::StrCat("stream ", path, ": not a valid URL path"));
  }
  // gen_key -> construct -> configure (the taps) -> cache insert.
  GObjectPtr<GstRTSPMedia> media(gst_rtsp_media_factory_construct(factory, url));
  gst_rtsp_url_free(url);
  if (media == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("stream ", path, ": the plugin could not build the pipeline (see log)"));
  }
  // The media's bus is watched on this thread's loop. The media stops the
  // thread (quits the loop) when it is finally unprepared; the loop thread
  // holds its own loop reference, so it can be detached safely.
  GstRTSPThread* thread = gst_rtsp_thread_new(GST_RTSP_THREAD_TYPE_MEDIA);
  GMainLoop* loop = g_main_loop_ref(thread->loop);
  GMainContext* context = g_main_context_ref(thread->context);
  std::thread([loop, context] {
    g_main_context_push_thread_default(context);
    g_main_loop_run(loop);
    g_main_context_pop_thread_default(context);
    g_main_loop_unref(loop);
    g_main_context_unref(context);
  }).detach();
  if (!gst_rtsp_media_prepare(media.get(), thread)) {
    return absl::UnavailableError(
        absl::StrCat("stream ", path, ": the pipeline failed to start (see log)"));
  }
  return std::unique_ptr<SharedMediaKeeper>(new SharedMediaKeeper(std::move(media), path));
}

absl::Status SharedMediaKeeper::Anchor(const AnchorProgressOf& progress_of) {
  GstRTSPMedia* media = media_.get();
  guint n = gst_rtsp_media_n_streams(media);
  anchors_ = g_ptr_array_new_with_free_func(g_object_unref);
  for (guint i = 0; i < n; ++i) {
    GstRTSPStream* stream = gst_rtsp_media_get_stream(media, i);
    // Takes ownership of the transport description.
    GstRTSPStreamTransport* anchor = gst_rtsp_stream_transport_new(stream, NewTcpTransport(i));
    std::shared_ptr<RtpProgress> progress = progress_of ? progress_of(stream) : nullptr;
    std::shared_ptr<FanOut> fan_out = FanOut::Attach(stream, &SendWorkers::Shared());
    gst_rtsp_stream_transport_set_callbacks(anchor, &DropBuffer, &DropBuffer,
                                            new AnchorSink{anchor, progress, fan_out},
                                            &AnchorSink::Free);
    gst_rtsp_stream_transport_set_list_callbacks(anchor, &DropBufferList, &DropBufferList,
                                                 new AnchorSink{anchor, progress, fan_out},
                                                 &AnchorSink::Free);
    g_ptr_array_add(anchors_, anchor);
  }
  // Adds the sinks a TCP reader needs, as a first SETUP would.
  if (!gst_rtsp_media_complete_pipeline(media, anchors_)) {
    return absl::InternalError(absl::StrCat("stream ", path_, ": cannot complete the pipeline"));
  }
  for (guint i = 0; i < n; ++i) {
    auto* anchor = static_cast<GstRTSPStreamTransport*>(g_ptr_array_index(anchors_, i));
    gst_rtsp_stream_add_transport(gst_rtsp_stream_transport_get_stream(anchor), anchor);
  }
  if (!gst_rtsp_media_set_state(media, GST_STATE_PLAYING, anchors_)) {
    return absl::InternalError(absl::StrCat("stream ", path_, ": the pipeline did not start"));
  }
  // Wait for the first segment on every track: the condition that
  // gst_rtsp_media_get_rates() asserts on. It has no signal of its own, so
  // it is polled; this runs once per stream, at mount time, bounded.
  absl::Time deadline = absl::Now() + kStartTimeout;
  for (guint i = 0; i < n; ++i) {
    GstRTSPStream* stream = gst_rtsp_media_get_stream(media, i);
    gdouble rate = 0, applied_rate = 0;
    while (!gst_rtsp_stream_get_rates(stream, &rate, &applied_rate)) {
      if (absl::Now() > deadline) {
        return absl::UnavailableError(absl::StrCat("stream ", path_, ": track ", i,
                                                   " produced no media within ",
                                                   absl::FormatDuration(kStartTimeout)));
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  return absl::OkStatus();
}

SharedMediaKeeper::~SharedMediaKeeper() {
  if (anchors_ != nullptr) {
    // Detach the anchors without gst_rtsp_media_set_state(NULL): that would
    // unprepare the media (dropping the keeper's prepare count) only when no
    // reader is active, so the count below would be dropped twice or never.
    for (guint i = 0; i < anchors_->len; ++i) {
      auto* anchor = static_cast<GstRTSPStreamTransport*>(g_ptr_array_index(anchors_, i));
      gst_rtsp_stream_transport_set_active(anchor, FALSE);
      gst_rtsp_stream_remove_transport(gst_rtsp_stream_transport_get_stream(anchor), anchor);
    }
    g_ptr_array_unref(anchors_);
  }
  // The pipeline stops once readers have dropped their counts too.
  gst_rtsp_media_unprepare(media_.get());
}

int SharedMediaKeeper::readers() const {
  if (gst_rtsp_media_n_streams(media_.get()) == 0) return 0;
  GstRTSPStream* stream = gst_rtsp_media_get_stream(media_.get(), 0);
  // With no filter function, every transport is returned with a reference.
  GList* transports = gst_rtsp_stream_transport_filter(stream, nullptr, nullptr);
  int count = static_cast<int>(g_list_length(transports)) - (anchors_ != nullptr ? 1 : 0);
  g_list_free_full(transports, g_object_unref);
  // Readers of the fan-out are no longer listed by the stream.
  std::shared_ptr<FanOut> fan_out = FanOut::Of(stream);
  if (fan_out != nullptr) count += fan_out->unlisted();
  return count;
}

}  // namespace rtsptest::core
