// ForEachTrackPad.
#include "core/media/track_tap.h"

namespace rtsptest::core {

void ForEachTrackPad(GstRTSPMedia* media, const std::function<void(guint, GstPad*)>& fn) {
  guint n = gst_rtsp_media_n_streams(media);
  for (guint i = 0; i < n; ++i) {
    GstPad* pad = gst_rtsp_stream_get_srcpad(gst_rtsp_media_get_stream(media, i));
    if (pad == nullptr) continue;
    fn(i, pad);
    gst_object_unref(pad);
  }
}

}  // namespace rtsptest::core
