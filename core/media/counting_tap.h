// CountingTap: counts what each track produces (RTP bytes, frames, the time
// of the last frame) and notices pipeline failures, into a MediaLiveness.
//
// It is the one per-buffer counter of a stream: the bytes a stream reports
// are the sum of its tracks' bytes here.
#ifndef RTSPTEST_CORE_MEDIA_COUNTING_TAP_H_
#define RTSPTEST_CORE_MEDIA_COUNTING_TAP_H_

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/media/media_liveness.h"
#include "core/media/track_tap.h"

namespace rtsptest::core {

class CountingTap : public TrackTap {
 public:
  void Install(GstRTSPMedia* media) override ABSL_LOCKS_EXCLUDED(mu_);

  // What the last installed media measured; empty counters before Install().
  // A stream's factory constructs one media (shared, kept by the keeper).
  LivenessCounters Read() const ABSL_LOCKS_EXCLUDED(mu_);
  // RTP bytes of every track so far.
  uint64_t bytes_produced() const;

 private:
  mutable absl::Mutex mu_;
  std::unique_ptr<MediaLiveness> liveness_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_COUNTING_TAP_H_
