// The stream the listener tests serve: a live 64x48 raw-video test source
// as one shared factory, as every stream of this server is one.
#ifndef RTSPTEST_TESTS_CORE_LISTENER_RAW_VIDEO_MOUNT_H_
#define RTSPTEST_TESTS_CORE_LISTENER_RAW_VIDEO_MOUNT_H_

#include "absl/strings/string_view.h"
#include "core/listener/rtsp_listener.h"

namespace rtsptest::testing {

// Mounts a live 64x48 RGB 30 fps test source (rtpvrawpay) at `path`.
void MountRawVideo(core::RtspListener& listener, absl::string_view path);

}  // namespace rtsptest::testing

#endif  // RTSPTEST_TESTS_CORE_LISTENER_RAW_VIDEO_MOUNT_H_
