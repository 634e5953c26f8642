// BuildRawVideo (see header).
#include "tests/core/media/raw_video_bin.h"

#include "absl/status/status.h"

namespace rtsptest::core {

absl::StatusOr<GstPtr<GstElement>> BuildRawVideo() {
  GError* error = nullptr;
  GstElement* bin = gst_parse_bin_from_description(
      "videotestsrc is-live=true ! video/x-raw,format=I420,width=64,height=48,framerate=15/1 ! "
      "rtpvrawpay name=pay0",
      FALSE, &error);
  if (bin == nullptr) {
    absl::Status status = absl::InvalidArgumentError(error->message);
    g_error_free(error);
    return status;
  }
  return GstPtr<GstElement>(GST_ELEMENT(gst_object_ref_sink(bin)));
}

}  // namespace rtsptest::core
