// TrackTap: something installed on every track of every media a stream's
// factory constructs (counting, seek refusal, and later faults).
//
// The factory installs its taps from gst-rtsp-server's `configure` vfunc,
// which gst_rtsp_media_factory_construct() runs once for each media it
// constructs, after `construct` (the media's streams and pipeline exist) and
// before the media is cached, prepared or seen by any reader. So a tap
// reaches every media by construction, not by remembering to call it.
#ifndef RTSPTEST_CORE_MEDIA_TRACK_TAP_H_
#define RTSPTEST_CORE_MEDIA_TRACK_TAP_H_

#include <gst/rtsp-server/rtsp-server.h>

#include <functional>

namespace rtsptest::core {

class TrackTap {
 public:
  virtual ~TrackTap() = default;
  // Installs the tap's probes on the tracks of `media`, which is constructed
  // and not prepared yet. Runs on the thread that constructs the media.
  virtual void Install(GstRTSPMedia* media) = 0;
};

// Calls `fn(index, pad)` with each track's source pad: the media element's
// pad of the track's payloader (pay0..payN). The pad is borrowed for the call.
void ForEachTrackPad(GstRTSPMedia* media, const std::function<void(guint, GstPad*)>& fn);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_TRACK_TAP_H_
