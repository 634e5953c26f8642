// ActiveFault: one stream fault while it is active (stream_faults.h).
#ifndef RTSPTEST_CORE_MEDIA_ACTIVE_FAULT_H_
#define RTSPTEST_CORE_MEDIA_ACTIVE_FAULT_H_

namespace rtsptest::core {

// Stopping a fault is destroying it: the destructor removes its probes and
// undoes what it changed, and returns without waiting for the streaming
// threads (a probe in flight finishes on state it shares).
class ActiveFault {
 public:
  virtual ~ActiveFault() = default;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_ACTIVE_FAULT_H_
