// MountRawVideo (see header).
#include "tests/core/listener/raw_video_mount.h"

namespace rtsptest::testing {

void MountRawVideo(core::RtspListener& listener, absl::string_view path) {
  GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(
      factory,
      "( videotestsrc is-live=true ! video/x-raw,format=RGB,width=64,height=48,framerate=30/1 ! "
      "rtpvrawpay name=pay0 )");
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  listener.Mount(path, factory);
  g_object_unref(factory);
}

}  // namespace rtsptest::testing
