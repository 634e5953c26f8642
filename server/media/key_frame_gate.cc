// KeyFrameGate: readers of a running shared stream start on an entry point.
#include "server/media/key_frame_gate.h"

#include <gst/rtp/gstrtpbuffer.h>

#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/logging/log.h"

namespace rtsptest::server {
namespace {

// How long the streaming thread may wait for the send paths to drain, and
// for the client threads to put readers back, at one entry point. A stalled
// client thread costs the stream at most this once; its reader waits for the
// next entry point.
constexpr absl::Duration kDrainTimeout = absl::Milliseconds(100);
constexpr absl::Duration kAdmitTimeout = absl::Milliseconds(200);
// While readers are held, ask again for a key frame this often (the first
// request may have been merged into an earlier one that already passed).
constexpr absl::Duration kRequestInterval = absl::Milliseconds(500);

bool H264EntryNal(uint8_t type) { return type == 7 || type == 5; }   // SPS, IDR
bool H265EntryNal(uint8_t type) { return type == 32 || type == 33 || (type >= 16 && type <= 21); }

// True if the session still has `media` (not torn down, not closed).
bool SessionHasMedia(GstRTSPSession* session, GstRTSPSessionMedia* media) {
  GList* found = gst_rtsp_session_filter(
      session,
      [](GstRTSPSession*, GstRTSPSessionMedia* candidate, gpointer target) {
        return candidate == target ? GST_RTSP_FILTER_REF : GST_RTSP_FILTER_KEEP;
      },
      media);
  bool has = found != nullptr;
  g_list_free_full(found, g_object_unref);
  return has;
}

// One reader held out of the track, with what it takes to put it back.
struct Held {
  Held(GstRTSPStreamTransport* transport, GstRTSPSessionMedia* media, GstRTSPSession* session,
       GMainContext* client_context)
      : transport(GST_RTSP_STREAM_TRANSPORT(g_object_ref(transport))),
        media(GST_RTSP_SESSION_MEDIA(g_object_ref(media))),
        session(GST_RTSP_SESSION(g_object_ref(session))),
        client_context(g_main_context_ref(client_context)) {}
  ~Held() {
    g_object_unref(transport);
    g_object_unref(media);
    g_object_unref(session);
    g_main_context_unref(client_context);
  }
  Held(const Held&) = delete;
  Held& operator=(const Held&) = delete;

  GstRTSPStreamTransport* const transport;  // owned references, all four
  GstRTSPSessionMedia* const media;
  GstRTSPSession* const session;
  GMainContext* const client_context;
};

}  // namespace

bool EntryPointFormatFor(const std::string& encoding_name, EntryPointFormat* format) {
  if (encoding_name == "H264") {
    *format = EntryPointFormat::kH264;
  } else if (encoding_name == "H265") {
    *format = EntryPointFormat::kH265;
  } else if (encoding_name == "JPEG") {
    *format = EntryPointFormat::kJpeg;
  } else {
    return false;
  }
  return true;
}

bool StartsEntryPoint(EntryPointFormat format, const uint8_t* p, size_t size) {
  switch (format) {
    case EntryPointFormat::kH264: {  // RFC 6184
      if (size < 1) return false;
      uint8_t type = p[0] & 0x1f;
      if (type == 24) return size >= 4 && H264EntryNal(p[3] & 0x1f);  // STAP-A
      if (type == 28) return size >= 2 && (p[1] & 0x80) && H264EntryNal(p[1] & 0x1f);  // FU-A
      return H264EntryNal(type);
    }
    case EntryPointFormat::kH265: {  // RFC 7798
      if (size < 2) return false;
      uint8_t type = (p[0] >> 1) & 0x3f;
      if (type == 48) return size >= 5 && H265EntryNal((p[4] >> 1) & 0x3f);  // AP
      if (type == 49) return size >= 3 && (p[2] & 0x80) && H265EntryNal(p[2] & 0x3f);  // FU
      return H265EntryNal(type);
    }
    case EntryPointFormat::kJpeg:  // RFC 2435: fragment offset 0 starts a frame
      return size >= 4 && p[1] == 0 && p[2] == 0 && p[3] == 0;
  }
  return false;
}

// Everything the probe and the client-thread callbacks touch. Shared, since
// both may run after the gate is gone (a probe in flight, a queued source).
struct KeyFrameGate::State {
  GstRTSPStream* stream;  // borrowed; lives as long as the media
  GstElement* pipeline;   // borrowed; same
  EntryPointFormat format;
  std::function<void()> request_key_frame;
  std::shared_ptr<std::atomic<uint64_t>> anchor_rtp_items =
      std::make_shared<std::atomic<uint64_t>>(0);
  uint64_t pushed = 0;  // streaming thread only
  std::atomic<int> held_count{0};

  absl::Mutex mutex;
  bool closed ABSL_GUARDED_BY(mutex) = false;
  std::vector<std::unique_ptr<Held>> held ABSL_GUARDED_BY(mutex);
  absl::Time last_request ABSL_GUARDED_BY(mutex) = absl::InfinitePast();

  void RequestKeyFrameEvery(absl::Duration interval) {
    {
      absl::MutexLock lock(&mutex);
      absl::Time now = absl::Now();
      if (now - last_request < interval) return;
      last_request = now;
    }
    request_key_frame();
  }

  // True once nothing older than item `index` is left in the send paths:
  // the anchor (TCP path) has been handed every earlier item, and the queues
  // gst-rtsp-server puts in front of each sink when a track has both TCP and
  // UDP readers are empty. Neither has a signal, so both are polled, briefly.
  bool AwaitDrained(uint64_t index) {
    absl::Time deadline = absl::Now() + kDrainTimeout;
    while (anchor_rtp_items->load() < index || !SinkQueuesEmpty()) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Microseconds(200));
    }
    return true;
  }

  bool SinkQueuesEmpty() {
    bool empty = true;
    GstIterator* it = gst_bin_iterate_elements(GST_BIN(pipeline));
    GValue item = G_VALUE_INIT;
    while (empty && gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
      GstElement* element = GST_ELEMENT(g_value_get_object(&item));
      GstElementFactory* factory = gst_element_get_factory(element);
      if (factory != nullptr && g_strcmp0(GST_OBJECT_NAME(factory), "queue") == 0) {
        guint level = 0;
        g_object_get(element, "current-level-buffers", &level, nullptr);
        empty = level == 0;
      }
      g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
    return empty;
  }
};

namespace {

// The put-back of one held reader, run on its client thread. `Batch` is the
// streaming thread's wait for a whole entry point's put-backs.
struct Batch {
  absl::Mutex mutex;
  int remaining ABSL_GUARDED_BY(mutex) = 0;
  bool cancelled ABSL_GUARDED_BY(mutex) = false;
};

struct PutBack {
  std::shared_ptr<KeyFrameGate::State> state;
  std::shared_ptr<Batch> batch;
  std::unique_ptr<Held> held;
};

}  // namespace

// Runs on the reader's client thread, where its PAUSE, TEARDOWN and close
// are handled, so the reader cannot leave between the check and the add.
static gboolean RunPutBack(gpointer data) {
  auto* job = static_cast<PutBack*>(data);
  absl::MutexLock batch_lock(&job->batch->mutex);
  if (job->batch->cancelled) {
    // Too late for this entry point: wait for the next one.
    absl::MutexLock lock(&job->state->mutex);
    if (!job->state->closed) {
      job->state->held.push_back(std::move(job->held));
      job->state->held_count.fetch_add(1);
    }
    return G_SOURCE_REMOVE;
  }
  Held& held = *job->held;
  if (gst_rtsp_session_media_get_rtsp_state(held.media) == GST_RTSP_STATE_PLAYING &&
      SessionHasMedia(held.session, held.media)) {
    gst_rtsp_stream_add_transport(job->state->stream, held.transport);
  }
  --job->batch->remaining;
  return G_SOURCE_REMOVE;
}

KeyFrameGate::KeyFrameGate(GstRTSPStream* stream, GstElement* pipeline, EntryPointFormat format,
                           std::function<void()> request_key_frame)
    : state_(std::make_shared<State>()) {
  state_->stream = stream;
  state_->pipeline = pipeline;
  state_->format = format;
  state_->request_key_frame = std::move(request_key_frame);
  pad_ = gst_rtsp_stream_get_srcpad(stream);
  if (pad_ == nullptr) return;
  probe_id_ = gst_pad_add_probe(
      pad_, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      [](GstPad*, GstPadProbeInfo* info, gpointer data) {
        State& state = **static_cast<std::shared_ptr<State>*>(data);
        uint64_t index = state.pushed++;
        if (state.held_count.load() == 0) return GST_PAD_PROBE_OK;
        GstBuffer* buffer = nullptr;
        if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
          buffer = GST_PAD_PROBE_INFO_BUFFER(info);
        } else if (GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
                   list != nullptr && gst_buffer_list_length(list) > 0) {
          buffer = gst_buffer_list_get(list, 0);
        }
        GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
        if (buffer == nullptr || !gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) {
          return GST_PAD_PROBE_OK;
        }
        bool entry = StartsEntryPoint(state.format,
                                      static_cast<const uint8_t*>(gst_rtp_buffer_get_payload(&rtp)),
                                      gst_rtp_buffer_get_payload_len(&rtp));
        gst_rtp_buffer_unmap(&rtp);
        if (!entry) {
          state.RequestKeyFrameEvery(kRequestInterval);
          return GST_PAD_PROBE_OK;
        }
        if (!state.AwaitDrained(index)) return GST_PAD_PROBE_OK;
        // Hand every held reader to its client thread, and wait for them.
        auto batch = std::make_shared<Batch>();
        std::vector<std::unique_ptr<Held>> admitted;
        {
          absl::MutexLock lock(&state.mutex);
          admitted.swap(state.held);
          state.held_count.store(0);
        }
        {
          absl::MutexLock lock(&batch->mutex);
          batch->remaining = static_cast<int>(admitted.size());
        }
        for (std::unique_ptr<Held>& held : admitted) {
          GMainContext* context = held->client_context;
          auto* job = new PutBack{*static_cast<std::shared_ptr<State>*>(data), batch, std::move(held)};
          g_main_context_invoke_full(context, G_PRIORITY_HIGH, &RunPutBack, job,
                                     [](gpointer p) { delete static_cast<PutBack*>(p); });
        }
        absl::MutexLock lock(&batch->mutex);
        batch->mutex.AwaitWithTimeout(
            absl::Condition(+[](int* remaining) { return *remaining == 0; }, &batch->remaining),
            kAdmitTimeout);
        batch->cancelled = true;  // put-backs that have not run yet wait for the next one
        return GST_PAD_PROBE_OK;
      },
      new std::shared_ptr<State>(state_),
      [](gpointer data) { delete static_cast<std::shared_ptr<State>*>(data); });
}

KeyFrameGate::~KeyFrameGate() {
  if (pad_ != nullptr) {
    if (probe_id_ != 0) gst_pad_remove_probe(pad_, probe_id_);
    gst_object_unref(pad_);
  }
  absl::MutexLock lock(&state_->mutex);
  state_->closed = true;
  state_->held.clear();
  state_->held_count.store(0);
}

void KeyFrameGate::Hold(GstRTSPContext* context) {
  if (context == nullptr || context->sessmedia == nullptr || context->session == nullptr) return;
  GstRTSPStreamTransport* transport = gst_rtsp_session_media_get_transport(
      context->sessmedia, gst_rtsp_stream_get_index(state_->stream));
  // The source being dispatched is the client's watch: its context is the
  // client's thread, where the reader will be put back.
  GSource* source = g_main_current_source();
  if (transport == nullptr || source == nullptr || g_source_get_context(source) == nullptr) return;
  if (!gst_rtsp_stream_remove_transport(state_->stream, transport)) return;
  auto held = std::make_unique<Held>(transport, context->sessmedia, context->session,
                                     g_source_get_context(source));
  {
    absl::MutexLock lock(&state_->mutex);
    if (state_->closed) {
      gst_rtsp_stream_add_transport(state_->stream, transport);
      return;
    }
    state_->held.push_back(std::move(held));
    state_->held_count.fetch_add(1);
  }
  state_->RequestKeyFrameEvery(absl::ZeroDuration());
}

std::shared_ptr<std::atomic<uint64_t>> KeyFrameGate::anchor_rtp_items() const {
  return state_->anchor_rtp_items;
}

int KeyFrameGate::held() const { return state_->held_count.load(); }

GstRTSPStream* KeyFrameGate::stream() const { return state_->stream; }

}  // namespace rtsptest::server
