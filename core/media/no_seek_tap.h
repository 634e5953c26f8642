// NoSeekTap: every track answers SEEKING with "not seekable".
//
// A stream is a live camera shared by every reader: gst-rtsp-server would
// otherwise turn each PLAY's "Range: npt=0-" into a flushing seek of the
// shared pipeline (videotestsrc is seekable even when live). A flush wipes
// rtpbin's segments, and a PLAY from another reader in that window hits the
// get_rates() assertion (stream_media.h); it would also restart every other
// reader's picture.
#ifndef RTSPTEST_CORE_MEDIA_NO_SEEK_TAP_H_
#define RTSPTEST_CORE_MEDIA_NO_SEEK_TAP_H_

#include "core/media/track_tap.h"

namespace rtsptest::core {

class NoSeekTap : public TrackTap {
 public:
  void Install(GstRTSPMedia* media) override;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_NO_SEEK_TAP_H_
