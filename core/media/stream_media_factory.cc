// StreamMediaFactory (a GstRTSPMediaFactory subclass) and SharedMediaKeeper.
#include "core/media/stream_media_factory.h"

#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/log/log.h"
#include "core/media/key_frame_gate.h"

namespace rtsptest::server {
namespace {

struct RtsStreamFactory {
  GstRTSPMediaFactory parent;
  std::string* path;
  ElementBuilder* builder;
};

struct RtsStreamFactoryClass {
  GstRTSPMediaFactoryClass parent_class;
};

G_DEFINE_TYPE(RtsStreamFactory, rts_stream_factory, GST_TYPE_RTSP_MEDIA_FACTORY)

// The element for a new media. Runs on the thread of the client (or of the
// keeper) that asked for the media; the builder is thread-safe.
GstElement* CreateElement(GstRTSPMediaFactory* factory, const GstRTSPUrl*) {
  auto* self = reinterpret_cast<RtsStreamFactory*>(factory);
  absl::StatusOr<GstPtr<GstElement>> element = (*self->builder)();
  if (!element.ok()) {
    Log(LogLevel::kError, "stream element creation failed",
        {{"stream", *self->path}, {"error", std::string(element.status().message())}});
    return nullptr;
  }
  // gst-rtsp-server takes a floating reference (it ref_sinks the element).
  GstElement* raw = element->release();
  g_object_force_floating(G_OBJECT(raw));
  return raw;
}

// One media per stream, whatever the port or host in the client's URL.
gchar* GenKey(GstRTSPMediaFactory* factory, const GstRTSPUrl*) {
  return g_strdup(reinterpret_cast<RtsStreamFactory*>(factory)->path->c_str());
}

void Finalize(GObject* object) {
  auto* self = reinterpret_cast<RtsStreamFactory*>(object);
  delete self->path;
  delete self->builder;
  G_OBJECT_CLASS(rts_stream_factory_parent_class)->finalize(object);
}

void rts_stream_factory_class_init(RtsStreamFactoryClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = &Finalize;
  GST_RTSP_MEDIA_FACTORY_CLASS(klass)->create_element = &CreateElement;
  GST_RTSP_MEDIA_FACTORY_CLASS(klass)->gen_key = &GenKey;
}

void rts_stream_factory_init(RtsStreamFactory* self) {
  self->path = nullptr;
  self->builder = nullptr;
}

using ByteCounter = std::shared_ptr<std::atomic<uint64_t>>;

// Counts the RTP bytes leaving a payloader. Runs on the streaming thread for
// every buffer, so it only does a relaxed atomic add.
GstPadProbeReturn CountBytes(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* counter = static_cast<ByteCounter*>(data);
  uint64_t bytes = 0;
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    bytes = gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info));
  } else if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    bytes = gst_buffer_list_calculate_size(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
  }
  (*counter)->fetch_add(bytes, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

// Calls `fn` with each track's source pad: the media element's ghost pad of
// the track's payloader (pay0..payN).
template <typename Fn>
void ForEachTrackPad(GstRTSPMedia* media, Fn fn) {
  guint n = gst_rtsp_media_n_streams(media);
  for (guint i = 0; i < n; ++i) {
    GstPad* pad = gst_rtsp_stream_get_srcpad(gst_rtsp_media_get_stream(media, i));
    if (pad == nullptr) continue;
    fn(pad);
    gst_object_unref(pad);
  }
}

void CountBytesOfEveryStream(GstRTSPMedia* media, const ByteCounter& counter) {
  ForEachTrackPad(media, [&counter](GstPad* pad) {
    gst_pad_add_probe(
        pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        &CountBytes, new ByteCounter(counter),
        [](gpointer data) { delete static_cast<ByteCounter*>(data); });
  });
}

// Answers "not seekable" for the stream. A stream is a live camera shared by
// every reader: gst-rtsp-server would otherwise turn each PLAY's
// "Range: npt=0-" into a flushing seek of the shared pipeline (videotestsrc
// is seekable even when live). A flush wipes rtpbin's segments, and a PLAY
// from another reader in that window hits the get_rates() assertion; it
// would also restart every other reader's picture.
GstPadProbeReturn RefuseSeeking(GstPad*, GstPadProbeInfo* info, gpointer) {
  GstQuery* query = GST_PAD_PROBE_INFO_QUERY(info);
  if (GST_QUERY_TYPE(query) != GST_QUERY_SEEKING) return GST_PAD_PROBE_OK;
  GstFormat format = GST_FORMAT_TIME;
  gst_query_parse_seeking(query, &format, nullptr, nullptr, nullptr);
  gst_query_set_seeking(query, format, FALSE, 0, -1);
  return GST_PAD_PROBE_HANDLED;
}

void MakeUnseekable(GstRTSPMedia* media) {
  ForEachTrackPad(media, [](GstPad* pad) {
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM, &RefuseSeeking, nullptr, nullptr);
  });
}

// The media's pipeline (the parent of its element), with a reference.
GstElement* PipelineOf(GstRTSPMedia* media) {
  GstElement* element = gst_rtsp_media_get_element(media);
  GstObject* pipeline = gst_object_get_parent(GST_OBJECT(element));
  gst_object_unref(element);
  return pipeline != nullptr ? GST_ELEMENT(pipeline) : nullptr;
}

// RTCP sender reports tell a reader how to line up audio with video; many
// clients (ffmpeg among them) wait for the first one. rtpbin's default
// minimum interval is 5 s, so a reader joining a running stream could wait
// that long; 1 s costs a few bytes per second per reader.
constexpr guint64 kRtcpMinInterval = GST_SECOND;

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

void SendAsSoonAsEncoded(GstRTSPMedia* media) {
  GstElement* pipeline = PipelineOf(media);
  if (pipeline == nullptr) return;
  g_signal_connect(pipeline, "element-added", G_CALLBACK(&OnSinkAdded), nullptr);
  gst_object_unref(pipeline);
}

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
struct AnchorSink {
  GstRTSPStreamTransport* anchor;  // borrowed: the sink lives as long as it
  // RTP items handed out, for the track's key-frame gate; null if ungated.
  std::shared_ptr<std::atomic<uint64_t>> rtp_items;

  void Sent(guint8 channel) {
    if (rtp_items != nullptr && channel % 2 == 0) rtp_items->fetch_add(1);
    gst_rtsp_stream_transport_message_sent(anchor);
  }
  static void Free(gpointer sink) { delete static_cast<AnchorSink*>(sink); }
};

gboolean DropBuffer(GstBuffer*, guint8 channel, gpointer sink) {
  static_cast<AnchorSink*>(sink)->Sent(channel);
  return TRUE;
}
gboolean DropBufferList(GstBufferList*, guint8 channel, gpointer sink) {
  static_cast<AnchorSink*>(sink)->Sent(channel);
  return TRUE;
}

// The RTP encoding name a track's payloader produces ("H264", "OPUS", ...).
std::string EncodingNameOf(GstRTSPStream* stream) {
  std::string name;
  GstPad* pad = gst_rtsp_stream_get_srcpad(stream);
  if (pad == nullptr) return name;
  GstCaps* caps = gst_pad_query_caps(pad, nullptr);
  if (caps != nullptr && gst_caps_get_size(caps) > 0) {
    const gchar* value = gst_structure_get_string(gst_caps_get_structure(caps, 0), "encoding-name");
    if (value != nullptr) name = value;
  }
  if (caps != nullptr) gst_caps_unref(caps);
  gst_object_unref(pad);
  return name;
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

GObjectPtr<GstRTSPMediaFactory> NewStreamMediaFactory(std::string path, ElementBuilder builder) {
  auto* self = static_cast<RtsStreamFactory*>(g_object_new(rts_stream_factory_get_type(), nullptr));
  self->path = new std::string(std::move(path));
  self->builder = new ElementBuilder(std::move(builder));
  auto* factory = GST_RTSP_MEDIA_FACTORY(self);
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  // A media that stops would have to be rebuilt for the next reader; ours
  // lives as long as the stream.
  gst_rtsp_media_factory_set_eos_shutdown(factory, FALSE);
  gst_rtsp_media_factory_set_protocols(
      factory, static_cast<GstRTSPLowerTrans>(GST_RTSP_LOWER_TRANS_UDP | GST_RTSP_LOWER_TRANS_TCP));
  return GObjectPtr<GstRTSPMediaFactory>(factory);
}

absl::StatusOr<std::unique_ptr<SharedMediaKeeper>> SharedMediaKeeper::Create(
    GstRTSPMediaFactory* factory, const std::string& path) {
  GstRTSPUrl* url = nullptr;
  std::string uri = absl::StrCat("rtsp://127.0.0.1", path);
  if (gst_rtsp_url_parse(uri.c_str(), &url) != GST_RTSP_OK) {
    return absl::InvalidArgumentError(absl::StrCat("stream ", path, ": not a valid URL path"));
  }
  GObjectPtr<GstRTSPMedia> media(gst_rtsp_media_factory_construct(factory, url));
  gst_rtsp_url_free(url);
  if (media == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("stream ", path, ": the plugin could not build the pipeline (see log)"));
  }
  MakeUnseekable(media.get());
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
  auto bytes = std::make_shared<std::atomic<uint64_t>>(0);
  CountBytesOfEveryStream(media.get(), bytes);
  ShortenRtcpInterval(media.get());
  SendAsSoonAsEncoded(media.get());
  std::unique_ptr<SharedMediaKeeper> keeper(new SharedMediaKeeper(std::move(media), std::move(bytes)));
  keeper->liveness_ = std::make_unique<MediaLiveness>(keeper->media());
  keeper->InstallKeyFrameGates();
  if (absl::Status status = keeper->StartAnchor(path); !status.ok()) return status;
  return keeper;
}

absl::Status SharedMediaKeeper::StartAnchor(const std::string& path) {
  GstRTSPMedia* media = media_.get();
  guint n = gst_rtsp_media_n_streams(media);
  anchors_ = g_ptr_array_new_with_free_func(g_object_unref);
  for (guint i = 0; i < n; ++i) {
    GstRTSPStream* stream = gst_rtsp_media_get_stream(media, i);
    // Takes ownership of the transport description.
    GstRTSPStreamTransport* anchor = gst_rtsp_stream_transport_new(stream, NewTcpTransport(i));
    std::shared_ptr<std::atomic<uint64_t>> rtp_items;
    if (KeyFrameGate* gate = GateOf(stream); gate != nullptr) rtp_items = gate->anchor_rtp_items();
    gst_rtsp_stream_transport_set_callbacks(anchor, &DropBuffer, &DropBuffer,
                                            new AnchorSink{anchor, rtp_items}, &AnchorSink::Free);
    gst_rtsp_stream_transport_set_list_callbacks(anchor, &DropBufferList, &DropBufferList,
                                                 new AnchorSink{anchor, rtp_items},
                                                 &AnchorSink::Free);
    g_ptr_array_add(anchors_, anchor);
  }
  // Adds the sinks a TCP reader needs, as a first SETUP would.
  if (!gst_rtsp_media_complete_pipeline(media, anchors_)) {
    return absl::InternalError(absl::StrCat("stream ", path, ": cannot complete the pipeline"));
  }
  for (guint i = 0; i < n; ++i) {
    auto* anchor = static_cast<GstRTSPStreamTransport*>(g_ptr_array_index(anchors_, i));
    gst_rtsp_stream_add_transport(gst_rtsp_stream_transport_get_stream(anchor), anchor);
  }
  if (!gst_rtsp_media_set_state(media, GST_STATE_PLAYING, anchors_)) {
    return absl::InternalError(absl::StrCat("stream ", path, ": the pipeline did not start"));
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
        return absl::UnavailableError(absl::StrCat("stream ", path, ": track ", i,
                                                   " produced no media within ",
                                                   absl::FormatDuration(kStartTimeout)));
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  return absl::OkStatus();
}

void SharedMediaKeeper::InstallKeyFrameGates() {
  GstElement* pipeline = PipelineOf(media_.get());
  if (pipeline == nullptr) return;
  for (guint i = 0; i < gst_rtsp_media_n_streams(media_.get()); ++i) {
    GstRTSPStream* stream = gst_rtsp_media_get_stream(media_.get(), i);
    EntryPointFormat format;
    if (!EntryPointFormatFor(EncodingNameOf(stream), &format)) continue;
    gates_.push_back(std::make_unique<KeyFrameGate>(stream, pipeline, format));
  }
  // The media holds the pipeline, and so outlives the gates.
  gst_object_unref(pipeline);
}

KeyFrameGate* SharedMediaKeeper::GateOf(GstRTSPStream* stream) const {
  for (const std::unique_ptr<KeyFrameGate>& gate : gates_) {
    if (gate->stream() == stream) return gate.get();
  }
  return nullptr;
}

void SharedMediaKeeper::OnReaderActivating() {
  for (const std::unique_ptr<KeyFrameGate>& gate : gates_) gate->BeginJoin();
}

void SharedMediaKeeper::OnReaderPlaying(GstRTSPContext* context) {
  for (const std::unique_ptr<KeyFrameGate>& gate : gates_) gate->Hold(context);
}

SharedMediaKeeper::~SharedMediaKeeper() {
  gates_.clear();
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
  // One of them is the anchor.
  int count = static_cast<int>(g_list_length(transports)) - (anchors_ != nullptr ? 1 : 0);
  g_list_free_full(transports, g_object_unref);
  return count;
}

}  // namespace rtsptest::server
