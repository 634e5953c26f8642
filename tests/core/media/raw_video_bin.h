// The element of the media tests' streams: a live 64x48 I420 test source
// with a raw-video payloader (no encoder).
#ifndef RTSPTEST_TESTS_CORE_MEDIA_RAW_VIDEO_BIN_H_
#define RTSPTEST_TESTS_CORE_MEDIA_RAW_VIDEO_BIN_H_

#include <gst/gst.h>

#include "absl/status/statusor.h"
#include "core/glib/gst_ptr.h"

namespace rtsptest::core {

// An ElementBuilder for StreamMedia::Create.
absl::StatusOr<GstPtr<GstElement>> BuildRawVideo();

}  // namespace rtsptest::core

#endif  // RTSPTEST_TESTS_CORE_MEDIA_RAW_VIDEO_BIN_H_
