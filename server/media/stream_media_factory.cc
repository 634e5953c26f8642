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
  return std::unique_ptr<SharedMediaKeeper>(new SharedMediaKeeper(std::move(media)));
}

SharedMediaKeeper::~SharedMediaKeeper() { gst_rtsp_media_unprepare(media_.get()); }

}  // namespace rtsptest::server
