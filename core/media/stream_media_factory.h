// StreamMediaFactory: the gst-rtsp-server media factory of one stream, a
// GstRTSPMediaFactory subclass with three jobs:
//   - gen_key: one media per stream, whatever the host or port in the
//     reader's URL, so every listener (port) shares one pipeline and one
//     encoder;
//   - create_element: the stream's bin (pay0..payN), from its builder;
//   - configure: installs the stream's track taps (track_tap.h) on every
//     media it constructs. gst_rtsp_media_factory_construct() runs
//     gen_key -> construct -> configure -> cache insert, so no media reaches
//     the cache, or a reader, without them.
// It is shared, serves UDP and TCP, and never shuts a media down on EOS: the
// media lives as long as the stream (SharedMediaKeeper).
#ifndef RTSPTEST_CORE_MEDIA_STREAM_MEDIA_FACTORY_H_
#define RTSPTEST_CORE_MEDIA_STREAM_MEDIA_FACTORY_H_

#include <gst/rtsp-server/rtsp-server.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/glib/gst_ptr.h"
#include "core/media/track_tap.h"

namespace rtsptest::core {

// Builds a new element (a bin with pay0..payN) for the stream. Called on the
// thread that constructs the media; must be thread-safe.
using ElementBuilder = std::function<absl::StatusOr<GstPtr<GstElement>>()>;

// Creates the factory for `path`. The caller owns the returned reference;
// the factory shares ownership of the taps.
GObjectPtr<GstRTSPMediaFactory> NewStreamMediaFactory(std::string path, ElementBuilder builder,
                                                      std::vector<std::shared_ptr<TrackTap>> taps);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_STREAM_MEDIA_FACTORY_H_
