// MediaLiveness: pad probes and a bus sync-message handler (see header).
#include "core/media/media_liveness.h"

#include <atomic>
#include <chrono>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace rtsptest::core {

namespace {

// One track's counters, written by its streaming thread.
struct Track {
  std::atomic<int> media{static_cast<int>(TrackMedia::kUnknown)};
  std::atomic<uint64_t> frames{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<int64_t> last_frame_ns{-1};  // MonotonicNow() in ns; -1: none.
};

int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct MediaLiveness::Shared {
  explicit Shared(guint n) : tracks(new Track[n]), n_tracks(n) {}

  // Keeps the first failure only: later ones are usually its consequences.
  void Fail(std::string why) {
    absl::MutexLock lock(&mu);
    if (failure.empty()) failure = std::move(why);
  }

  const std::unique_ptr<Track[]> tracks;
  const guint n_tracks;
  mutable absl::Mutex mu;
  std::string failure ABSL_GUARDED_BY(mu);
};

namespace {

using Shared = MediaLiveness::Shared;

struct ProbeData {
  std::shared_ptr<Shared> shared;
  guint index;
};

// The RTP caps' media field; kUnknown while the pad has no caps yet.
TrackMedia MediaOfPad(GstPad* pad) {
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (caps == nullptr) return TrackMedia::kUnknown;
  TrackMedia media = TrackMedia::kOther;
  if (gst_caps_get_size(caps) > 0) {
    const gchar* name = gst_structure_get_string(gst_caps_get_structure(caps, 0), "media");
    if (name != nullptr && g_str_equal(name, "video")) media = TrackMedia::kVideo;
    if (name != nullptr && g_str_equal(name, "audio")) media = TrackMedia::kAudio;
  }
  gst_caps_unref(caps);
  return media;
}

// Adds one RTP packet to `frames` and `bytes`. A video frame may span many
// packets; the payloader sets the marker bit (byte 1, top bit) on its last.
void CountPacket(GstBuffer* buffer, TrackMedia media, uint64_t* frames, uint64_t* bytes) {
  *bytes += gst_buffer_get_size(buffer);
  if (media != TrackMedia::kVideo) {
    ++*frames;
    return;
  }
  guint8 second = 0;
  if (gst_buffer_extract(buffer, 1, &second, 1) == 1 && (second & 0x80) != 0) ++*frames;
}

GstPadProbeReturn ObserveTrack(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* probe = static_cast<ProbeData*>(data);
  Track& track = probe->shared->tracks[probe->index];
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS) {
      probe->shared->Fail(absl::StrCat("end of stream (track ", probe->index, ")"));
    }
    return GST_PAD_PROBE_OK;
  }
  auto media = static_cast<TrackMedia>(track.media.load(std::memory_order_relaxed));
  if (media == TrackMedia::kUnknown) {
    // Once per track: caps precede the first buffer.
    media = MediaOfPad(pad);
    track.media.store(static_cast<int>(media), std::memory_order_relaxed);
  }
  uint64_t frames = 0, bytes = 0;
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    CountPacket(GST_PAD_PROBE_INFO_BUFFER(info), media, &frames, &bytes);
  } else if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    for (guint i = 0; i < gst_buffer_list_length(list); ++i) {
      CountPacket(gst_buffer_list_get(list, i), media, &frames, &bytes);
    }
  }
  track.bytes.fetch_add(bytes, std::memory_order_relaxed);
  if (frames > 0) {
    // The time before the count, so that a reader who sees frames > 0 also
    // sees a time (Read() loads them in the opposite order).
    track.last_frame_ns.store(MonotonicNanos());
    track.frames.fetch_add(frames);
  }
  return GST_PAD_PROBE_OK;
}

// Runs on the thread that posts the message (often a streaming thread),
// next to gst-rtsp-server's own asynchronous watch of the same bus, which
// still gets every message.
void OnSyncMessage(GstBus*, GstMessage* message, gpointer data) {
  auto& shared = *static_cast<std::shared_ptr<Shared>*>(data);
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    GError* error = nullptr;
    gst_message_parse_error(message, &error, nullptr);
    shared->Fail(absl::StrCat("pipeline error from ", GST_MESSAGE_SRC_NAME(message), ": ",
                              error != nullptr ? error->message : "(no message)"));
    if (error != nullptr) g_error_free(error);
  } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS) {
    shared->Fail("end of stream");
  }
}

}  // namespace

absl::Duration MonotonicNow() { return absl::Nanoseconds(MonotonicNanos()); }

const char* TrackMediaName(TrackMedia media) {
  switch (media) {
    case TrackMedia::kVideo:
      return "video";
    case TrackMedia::kAudio:
      return "audio";
    case TrackMedia::kOther:
      return "other";
    case TrackMedia::kUnknown:
      break;
  }
  return "unknown";
}

MediaLiveness::MediaLiveness(GstRTSPMedia* media)
    : shared_(std::make_shared<Shared>(gst_rtsp_media_n_streams(media))) {
  for (guint i = 0; i < shared_->n_tracks; ++i) {
    GstPad* pad = gst_rtsp_stream_get_srcpad(gst_rtsp_media_get_stream(media, i));
    if (pad == nullptr) continue;
    shared_->tracks[i].media.store(static_cast<int>(MediaOfPad(pad)));
    gst_pad_add_probe(
        pad,
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                     GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
        &ObserveTrack, new ProbeData{shared_, i},
        [](gpointer data) { delete static_cast<ProbeData*>(data); });
    gst_object_unref(pad);
  }
  // Errors of any element reach the pipeline's bus. gst-rtsp-server owns that
  // bus's one watch, so a second watch would steal its messages; sync-message
  // signals are emitted in addition to it.
  GstElement* element = gst_rtsp_media_get_element(media);
  GstObject* pipeline = gst_object_get_parent(GST_OBJECT(element));
  gst_object_unref(element);
  if (pipeline == nullptr) return;
  bus_ = gst_element_get_bus(GST_ELEMENT(pipeline));
  gst_object_unref(pipeline);
  if (bus_ == nullptr) return;
  gst_bus_enable_sync_message_emission(bus_);
  bus_handler_ = g_signal_connect_data(
      bus_, "sync-message", G_CALLBACK(&OnSyncMessage), new std::shared_ptr<Shared>(shared_),
      [](gpointer data, GClosure*) { delete static_cast<std::shared_ptr<Shared>*>(data); },
      static_cast<GConnectFlags>(0));
}

MediaLiveness::~MediaLiveness() {
  if (bus_ == nullptr) return;
  // GLib keeps the closure (and its data) alive until an emission in
  // progress on another thread has returned.
  g_signal_handler_disconnect(bus_, bus_handler_);
  gst_bus_disable_sync_message_emission(bus_);
  gst_object_unref(bus_);
}

LivenessCounters MediaLiveness::Read() const {
  LivenessCounters counters;
  counters.tracks.resize(shared_->n_tracks);
  for (guint i = 0; i < shared_->n_tracks; ++i) {
    const Track& track = shared_->tracks[i];
    TrackCounters& out = counters.tracks[i];
    out.media = static_cast<TrackMedia>(track.media.load(std::memory_order_relaxed));
    out.frames = track.frames.load();
    int64_t last = track.last_frame_ns.load();
    if (out.frames > 0 && last >= 0) out.last_frame = absl::Nanoseconds(last);
    out.bytes = track.bytes.load(std::memory_order_relaxed);
  }
  absl::MutexLock lock(&shared_->mu);
  counters.failure = shared_->failure;
  return counters;
}

}  // namespace rtsptest::core
