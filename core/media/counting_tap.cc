// CountingTap: a MediaLiveness per constructed media.
#include "core/media/counting_tap.h"

namespace rtsptest::core {

void CountingTap::Install(GstRTSPMedia* media) {
  auto liveness = std::make_unique<MediaLiveness>(media);
  absl::MutexLock lock(&mu_);
  liveness_ = std::move(liveness);
}

LivenessCounters CountingTap::Read() const {
  absl::MutexLock lock(&mu_);
  return liveness_ != nullptr ? liveness_->Read() : LivenessCounters{};
}

uint64_t CountingTap::bytes_produced() const {
  uint64_t total = 0;
  for (const TrackCounters& track : Read().tracks) total += track.bytes;
  return total;
}

}  // namespace rtsptest::core
