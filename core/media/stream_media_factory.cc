// StreamMediaFactory: a GstRTSPMediaFactory subclass (see header).
#include "core/media/stream_media_factory.h"

#include <utility>

#include "common/log/log.h"

namespace rtsptest::core {
namespace {

struct RtsStreamFactory {
  GstRTSPMediaFactory parent;
  // Owned; set once by NewStreamMediaFactory() and read-only after.
  std::string* path;
  ElementBuilder* builder;
  std::vector<std::shared_ptr<TrackTap>>* taps;
};

struct RtsStreamFactoryClass {
  GstRTSPMediaFactoryClass parent_class;
};

G_DEFINE_TYPE(RtsStreamFactory, rts_stream_factory, GST_TYPE_RTSP_MEDIA_FACTORY)

RtsStreamFactory* Self(GstRTSPMediaFactory* factory) {
  return reinterpret_cast<RtsStreamFactory*>(factory);
}

// The element for a new media. Runs on the thread of the client (or of the
// keeper) that asked for the media; the builder is thread-safe.
GstElement* CreateElement(GstRTSPMediaFactory* factory, const GstRTSPUrl*) {
  RtsStreamFactory* self = Self(factory);
  absl::StatusOr<GstPtr<GstElement>> element = (*self->builder)();
  if (!element.ok()) {
    common::Log(common::LogLevel::kError, "stream element creation failed",
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
  return g_strdup(Self(factory)->path->c_str());
}

// Once per constructed media, before it is cached (see header).
void Configure(GstRTSPMediaFactory* factory, GstRTSPMedia* media) {
  // The parent copies the factory's settings (shared, protocols, ...) onto
  // the media.
  GST_RTSP_MEDIA_FACTORY_CLASS(rts_stream_factory_parent_class)->configure(factory, media);
  // Each track's control spelled out (the SDP says the same): without one,
  // gst-rtsp-server matches a SETUP's track with sscanf("stream=%u"), and
  // ".../stream=0junk" or ".../stream=0/../../x" was set up as track 0.
  for (guint i = 0; i < gst_rtsp_media_n_streams(media); ++i) {
    GstRTSPStream* stream = gst_rtsp_media_get_stream(media, i);
    gchar* control = g_strdup_printf("stream=%u", gst_rtsp_stream_get_index(stream));
    gst_rtsp_stream_set_control(stream, control);
    g_free(control);
  }
  for (const std::shared_ptr<TrackTap>& tap : *Self(factory)->taps) tap->Install(media);
}

void Finalize(GObject* object) {
  auto* self = reinterpret_cast<RtsStreamFactory*>(object);
  delete self->path;
  delete self->builder;
  delete self->taps;
  G_OBJECT_CLASS(rts_stream_factory_parent_class)->finalize(object);
}

void rts_stream_factory_class_init(RtsStreamFactoryClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = &Finalize;
  GstRTSPMediaFactoryClass* factory_class = GST_RTSP_MEDIA_FACTORY_CLASS(klass);
  factory_class->create_element = &CreateElement;
  factory_class->gen_key = &GenKey;
  factory_class->configure = &Configure;
}

void rts_stream_factory_init(RtsStreamFactory* self) {
  self->path = nullptr;
  self->builder = nullptr;
  self->taps = nullptr;
}

}  // namespace

GObjectPtr<GstRTSPMediaFactory> NewStreamMediaFactory(std::string path, ElementBuilder builder,
                                                      std::vector<std::shared_ptr<TrackTap>> taps) {
  auto* self = static_cast<RtsStreamFactory*>(g_object_new(rts_stream_factory_get_type(), nullptr));
  self->path = new std::string(std::move(path));
  self->builder = new ElementBuilder(std::move(builder));
  self->taps = new std::vector<std::shared_ptr<TrackTap>>(std::move(taps));
  auto* factory = GST_RTSP_MEDIA_FACTORY(self);
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  // A media that stops would have to be rebuilt for the next reader; ours
  // lives as long as the stream.
  gst_rtsp_media_factory_set_eos_shutdown(factory, FALSE);
  gst_rtsp_media_factory_set_protocols(
      factory, static_cast<GstRTSPLowerTrans>(GST_RTSP_LOWER_TRANS_UDP | GST_RTSP_LOWER_TRANS_TCP));
  return GObjectPtr<GstRTSPMediaFactory>(factory);
}

}  // namespace rtsptest::core
