// FaultTap: the place where stream faults (dropped, late or corrupt packets,
// a frozen picture) will plug in, as a tap on every track of every media.
//
// There are no faults yet: the default installs nothing, so it costs nothing
// per buffer. A fault implementation overrides Install() and adds its probes
// on the track pads (ForEachTrackPad), like CountingTap and NoSeekTap.
#ifndef RTSPTEST_CORE_MEDIA_FAULT_TAP_H_
#define RTSPTEST_CORE_MEDIA_FAULT_TAP_H_

#include "core/media/track_tap.h"

namespace rtsptest::core {

class FaultTap : public TrackTap {
 public:
  void Install(GstRTSPMedia*) override {}
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_FAULT_TAP_H_
