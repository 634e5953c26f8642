// StreamMediaFactory (a GstRTSPMediaFactory subclass) and SharedMediaKeeper.
#include "server/media/stream_media_factory.h"

#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/logging/log.h"

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

void CountBytesOfEveryStream(GstRTSPMedia* media, const ByteCounter& counter) {
  guint n = gst_rtsp_media_n_streams(media);
  for (guint i = 0; i < n; ++i) {
    GstRTSPStream* stream = gst_rtsp_media_get_stream(media, i);
    GstPad* pad = gst_rtsp_stream_get_srcpad(stream);
    if (pad == nullptr) continue;
    gst_pad_add_probe(
        pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        &CountBytes, new ByteCounter(counter),
        [](gpointer data) { delete static_cast<ByteCounter*>(data); });
    gst_object_unref(pad);
  }
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
  return std::unique_ptr<SharedMediaKeeper>(new SharedMediaKeeper(std::move(media), std::move(bytes)));
}

SharedMediaKeeper::~SharedMediaKeeper() { gst_rtsp_media_unprepare(media_.get()); }

int SharedMediaKeeper::readers() const {
  if (gst_rtsp_media_n_streams(media_.get()) == 0) return 0;
  GstRTSPStream* stream = gst_rtsp_media_get_stream(media_.get(), 0);
  // With no filter function, every transport is returned with a reference.
  GList* transports = gst_rtsp_stream_transport_filter(stream, nullptr, nullptr);
  int count = static_cast<int>(g_list_length(transports));
  g_list_free_full(transports, g_object_unref);
  return count;
}

}  // namespace rtsptest::server
