// KeyFrameGate: readers of a running shared stream start on an entry point.
#include "core/media/key_frame_gate.h"

#include <gst/rtp/gstrtpbuffer.h>
#include <gst/video/video.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace rtsptest::core {
namespace {

// How long a join or an entry point may wait for the send paths to drain
// (normally microseconds; a loaded machine may not run the send threads for
// a while), and the streaming thread for the client threads to put readers
// back at one entry point. A stalled client thread costs the stream at most
// this once; its reader waits for the next entry point.
constexpr absl::Duration kDrainTimeout = absl::Milliseconds(500);
constexpr absl::Duration kAdmitTimeout = absl::Milliseconds(200);
// How long the streaming thread may wait for one PLAY to activate its
// reader. A PLAY that fails is reported (AbandonJoin), so this bound only
// guards against a client thread that stops in the middle of one.
constexpr absl::Duration kJoinTimeout = absl::Seconds(2);
// A key frame requested this long ago and not seen is asked for again (an
// encoder may drop a request it gets while starting or reconfiguring).
constexpr absl::Duration kRequestRetry = absl::Seconds(1);

bool H264EntryNal(uint8_t type) { return type == 7 || type == 5; }  // SPS, IDR
bool H265EntryNal(uint8_t type) { return type == 32 || type == 33 || (type >= 16 && type <= 21); }
bool H264PrefixNal(uint8_t type) { return type == 9 || type == 6; }                  // AUD, SEI
bool H265PrefixNal(uint8_t type) { return type == 35 || type == 39 || type == 40; }  // AUD, SEI

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

EntryPointRole RoleOf(EntryPointFormat format, const uint8_t* p, size_t size) {
  auto role = [](bool entry, bool prefix) {
    return entry    ? EntryPointRole::kEntry
           : prefix ? EntryPointRole::kPrefix
                    : EntryPointRole::kOther;
  };
  switch (format) {
    case EntryPointFormat::kH264: {  // RFC 6184
      if (size < 1) return EntryPointRole::kOther;
      uint8_t type = p[0] & 0x1f;
      if (type == 24) {  // STAP-A: its first unit decides
        return size >= 4 ? role(H264EntryNal(p[3] & 0x1f), H264PrefixNal(p[3] & 0x1f))
                         : EntryPointRole::kOther;
      }
      if (type == 28) {  // FU-A
        return role(size >= 2 && (p[1] & 0x80) && H264EntryNal(p[1] & 0x1f), false);
      }
      return role(H264EntryNal(type), H264PrefixNal(type));
    }
    case EntryPointFormat::kH265: {  // RFC 7798
      if (size < 2) return EntryPointRole::kOther;
      uint8_t type = (p[0] >> 1) & 0x3f;
      if (type == 48) {  // AP: its first unit decides
        if (size < 5) return EntryPointRole::kOther;
        uint8_t first = (p[4] >> 1) & 0x3f;
        return role(H265EntryNal(first), H265PrefixNal(first));
      }
      if (type == 49) {  // FU
        return role(size >= 3 && (p[2] & 0x80) && H265EntryNal(p[2] & 0x3f), false);
      }
      return role(H265EntryNal(type), H265PrefixNal(type));
    }
    case EntryPointFormat::kJpeg:  // RFC 2435: fragment offset 0 starts a frame
      return role(size >= 4 && p[1] == 0 && p[2] == 0 && p[3] == 0, false);
  }
  return EntryPointRole::kOther;
}

// Everything the probe and the client-thread callbacks touch. Shared, since
// both may run after the gate is gone (a probe in flight, a queued source).
//
// The streaming thread "parks" inside its probe, in front of an item, while
// a PLAY activates a reader (joining > 0) and while held readers are put back
// at an entry point. Parked, with the earlier items drained from the send
// paths, nothing can reach a transport that changes: that is the only moment
// transports are added to the track.
struct KeyFrameGate::State {
  GstRTSPStream* stream;  // borrowed; lives as long as the media
  GstElement* pipeline;   // borrowed; same
  GstPad* pad;            // owned reference: the payloader's (ghost) source pad
  EntryPointFormat format;
  // How far the anchor (the TCP send path) and the probe itself have got.
  std::shared_ptr<RtpProgress> anchor = std::make_shared<RtpProgress>();
  RtpProgress passed;  // updated with `mutex` held
  std::atomic<int> held_count{0};

  absl::Mutex mutex;
  bool closed ABSL_GUARDED_BY(mutex) = false;
  std::vector<std::unique_ptr<Held>> held ABSL_GUARDED_BY(mutex);
  // PLAYs between BeginJoin and Hold, and when the streaming thread stops
  // waiting for them (a PLAY that fails after BeginJoin never calls Hold).
  int joining ABSL_GUARDED_BY(mutex) = 0;
  absl::Time joining_until ABSL_GUARDED_BY(mutex) = absl::InfinitePast();
  // The put-backs of the admission in progress, if `admitting`.
  bool admitting ABSL_GUARDED_BY(mutex) = false;
  uint64_t admission ABSL_GUARDED_BY(mutex) = 0;  // its number
  int put_backs_left ABSL_GUARDED_BY(mutex) = 0;
  // When the pending key-frame request was sent; InfinitePast if none is
  // pending. Readers held at once share one request: a burst of joins costs
  // one key frame, not one each.
  absl::Time requested ABSL_GUARDED_BY(mutex) = absl::InfinitePast();

  std::weak_ptr<State> self;  // for put-backs, which keep the state alive

  ~State() { gst_object_unref(pad); }

  bool NoJoinPending() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) {
    if (joining > 0 && absl::Now() >= joining_until) joining = 0;  // failed PLAYs
    return joining == 0;
  }

  // Streaming thread, for every item (whose last packet is `sequence`):
  // parks while PLAYs activate readers; at an entry point with readers held,
  // puts them back; then lets the item go.
  void OnItem(bool entry, int32_t sequence) {
    absl::MutexLock lock(&mutex);
    mutex.AwaitWithDeadline(absl::Condition(this, &State::NoJoinPending), joining_until);
    if (entry) requested = absl::InfinitePast();
    if (entry && !held.empty()) {
      int32_t before = passed.last();
      mutex.Unlock();
      bool drained = AwaitDrained(before, kDrainTimeout);
      mutex.Lock();
      if (drained) Admit();
      // A PLAY that began during the admission finishes before the entry
      // point goes out (Admit's own wait is shorter).
      mutex.AwaitWithDeadline(absl::Condition(this, &State::NoJoinPending), joining_until);
    }
    passed.Saw(sequence);
  }

  // Hands every held reader to its client thread and waits, parked, until
  // they are back in the track and no PLAY is activating. Put-backs that
  // have not run by the deadline wait for the next entry point.
  void Admit() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) {
    std::vector<std::unique_ptr<Held>> admitted;
    admitted.swap(held);
    held_count.store(0);
    admitting = true;
    ++admission;
    put_backs_left = static_cast<int>(admitted.size());
    for (std::unique_ptr<Held>& reader : admitted) ScheduleIn(std::move(reader));
    absl::Time deadline = absl::Now() + kAdmitTimeout;
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) {
      return put_backs_left == 0 && NoJoinPending();
    };
    mutex.AwaitWithDeadline(absl::Condition(&done), deadline);
    admitting = false;
  }

  void ScheduleIn(std::unique_ptr<Held> reader) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex);

  // Asks the encoder for a key frame unless a request is pending. The event
  // goes upstream from the payloader's pad to the encoder; it does not take
  // the streaming lock, so the streaming thread may send it from its probe.
  void RequestKeyFrame() {
    {
      absl::MutexLock lock(&mutex);
      absl::Time now = absl::Now();
      if (now - requested < kRequestRetry) return;
      requested = now;
    }
    gst_pad_send_event(pad,
                       gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  }

  // True once the item whose last packet is `sequence` (and so every one
  // before it) has left the send paths: the anchor (TCP path; gst-rtsp-server
  // hands an item to every TCP transport before it hands the next) has been
  // handed it, and the UDP path is idle. Neither has a signal, so both are
  // polled, briefly.
  bool AwaitDrained(int32_t sequence, absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    while (!anchor->Reached(sequence) || !UdpPathIdle()) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Microseconds(200));
    }
    return true;
  }

  EntryPointRole RoleOfPacket(GstBuffer* buffer) {
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) return EntryPointRole::kOther;
    EntryPointRole role =
        RoleOf(format, static_cast<const uint8_t*>(gst_rtp_buffer_get_payload(&rtp)),
               gst_rtp_buffer_get_payload_len(&rtp));
    gst_rtp_buffer_unmap(&rtp);
    return role;
  }

  // An item (one buffer, or a list: often a whole access unit) starts an
  // entry point if its first packets are prefixes and the first other one is
  // an entry.
  bool StartsEntryPoint(GstPadProbeInfo* info) {
    if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
      return RoleOfPacket(GST_PAD_PROBE_INFO_BUFFER(info)) == EntryPointRole::kEntry;
    }
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    for (guint i = 0; list != nullptr && i < gst_buffer_list_length(list); ++i) {
      EntryPointRole role = RoleOfPacket(gst_buffer_list_get(list, i));
      if (role != EntryPointRole::kPrefix) return role == EntryPointRole::kEntry;
    }
    return false;
  }

  // True if no earlier item can still reach a UDP reader: the queues
  // gst-rtsp-server puts in front of each sink once a track has both TCP and
  // UDP readers are empty, and no UDP sink is sending (a sink holds its pad's
  // stream lock while it renders an item it took from its queue).
  bool UdpPathIdle() {
    bool idle = true;
    GstIterator* it = gst_bin_iterate_elements(GST_BIN(pipeline));
    GValue item = G_VALUE_INIT;
    while (idle && gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
      GstElement* element = GST_ELEMENT(g_value_get_object(&item));
      GstElementFactory* factory = gst_element_get_factory(element);
      const gchar* name = factory != nullptr ? GST_OBJECT_NAME(factory) : "";
      if (g_strcmp0(name, "queue") == 0) {
        guint level = 0;
        g_object_get(element, "current-level-buffers", &level, nullptr);
        idle = level == 0;
      } else if (g_strcmp0(name, "multiudpsink") == 0) {
        GstPad* pad = gst_element_get_static_pad(element, "sink");
        if (pad != nullptr) {
          idle = g_rec_mutex_trylock(GST_PAD_GET_STREAM_LOCK(pad));
          if (idle) g_rec_mutex_unlock(GST_PAD_GET_STREAM_LOCK(pad));
          gst_object_unref(pad);
        }
      }
      g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
    return idle;
  }
};

namespace {

// The put-back of one held reader in admission `admission`.
struct PutBack {
  std::shared_ptr<KeyFrameGate::State> state;
  uint64_t admission;
  std::unique_ptr<Held> reader;
};

// Runs on the reader's client thread, where its PAUSE, TEARDOWN and close
// are handled, so the reader cannot leave between the check and the add.
gboolean RunPutBack(gpointer data) {
  auto* job = static_cast<PutBack*>(data);
  KeyFrameGate::State& state = *job->state;
  absl::MutexLock lock(&state.mutex);
  if (state.closed) return G_SOURCE_REMOVE;
  if (!state.admitting || state.admission != job->admission) {
    // Too late for that entry point: wait for the next one.
    state.held.push_back(std::move(job->reader));
    state.held_count.fetch_add(1);
    return G_SOURCE_REMOVE;
  }
  Held& reader = *job->reader;
  if (gst_rtsp_session_media_get_rtsp_state(reader.media) == GST_RTSP_STATE_PLAYING &&
      SessionHasMedia(reader.session, reader.media)) {
    gst_rtsp_stream_add_transport(state.stream, reader.transport);
  }
  --state.put_backs_left;
  return G_SOURCE_REMOVE;
}

}  // namespace

void KeyFrameGate::State::ScheduleIn(std::unique_ptr<Held> reader) {
  GMainContext* context = reader->client_context;
  auto* job = new PutBack{nullptr, admission, std::move(reader)};
  // The probe's own shared_ptr is the one that keeps this state alive.
  job->state = std::shared_ptr<State>(self.lock());
  g_main_context_invoke_full(context, G_PRIORITY_HIGH, &RunPutBack, job,
                             [](gpointer p) { delete static_cast<PutBack*>(p); });
}

KeyFrameGate::KeyFrameGate(GstRTSPStream* stream, GstElement* pipeline, EntryPointFormat format)
    : state_(std::make_shared<State>()) {
  state_->self = state_;
  state_->stream = stream;
  state_->pipeline = pipeline;
  state_->pad = gst_rtsp_stream_get_srcpad(stream);
  state_->format = format;
  probe_id_ = gst_pad_add_probe(
      state_->pad,
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      [](GstPad*, GstPadProbeInfo* info, gpointer data) {
        State& state = **static_cast<std::shared_ptr<State>*>(data);
        bool held = state.held_count.load() > 0;
        bool entry = held && state.StartsEntryPoint(info);
        if (held && !entry) state.RequestKeyFrame();
        state.OnItem(entry, (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER)
                                ? LastSequenceOf(GST_PAD_PROBE_INFO_BUFFER(info))
                                : LastSequenceOf(GST_PAD_PROBE_INFO_BUFFER_LIST(info)));
        return GST_PAD_PROBE_OK;
      },
      new std::shared_ptr<State>(state_),
      [](gpointer data) { delete static_cast<std::shared_ptr<State>*>(data); });
}

KeyFrameGate::~KeyFrameGate() {
  gst_pad_remove_probe(state_->pad, probe_id_);
  absl::MutexLock lock(&state_->mutex);
  state_->closed = true;
  state_->held.clear();
  state_->held_count.store(0);
}

void KeyFrameGate::BeginJoin() {
  int32_t last;
  {
    absl::MutexLock lock(&state_->mutex);
    ++state_->joining;
    state_->joining_until = std::max(state_->joining_until, absl::Now() + kJoinTimeout);
    // From now on no item goes past the probe; `last` is the last that did.
    last = state_->passed.last();
  }
  // Let it leave the send paths.
  (void)state_->AwaitDrained(last, kDrainTimeout);
}

void KeyFrameGate::Hold(GstRTSPContext* context) {
  HoldTransport(context);
  EndJoin();
}

void KeyFrameGate::AbandonJoin() { EndJoin(); }

void KeyFrameGate::EndJoin() {
  absl::MutexLock lock(&state_->mutex);
  if (state_->joining > 0) --state_->joining;
}

void KeyFrameGate::HoldTransport(GstRTSPContext* context) {
  if (context == nullptr || context->sessmedia == nullptr || context->session == nullptr) return;
  GstRTSPStreamTransport* transport = gst_rtsp_session_media_get_transport(
      context->sessmedia, gst_rtsp_stream_get_index(state_->stream));
  // The source being dispatched is the client's watch: its context is the
  // client's thread, where the reader will be put back.
  GSource* source = g_main_current_source();
  if (transport == nullptr || source == nullptr || g_source_get_context(source) == nullptr) return;
  {
    absl::MutexLock lock(&state_->mutex);
    // Activated while the streaming thread is parked on an entry point whose
    // earlier items have drained: the reader starts right there.
    if (state_->closed || state_->admitting) return;
    if (!gst_rtsp_stream_remove_transport(state_->stream, transport)) return;
    state_->held.push_back(std::make_unique<Held>(transport, context->sessmedia, context->session,
                                                  g_source_get_context(source)));
    state_->held_count.fetch_add(1);
  }
  state_->RequestKeyFrame();
}

std::shared_ptr<RtpProgress> KeyFrameGate::anchor_progress() const { return state_->anchor; }

GstRTSPStream* KeyFrameGate::stream() const { return state_->stream; }

}  // namespace rtsptest::core
