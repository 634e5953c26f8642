// StreamLivenessChecker: see header.
#include "core/stream/stream_liveness_checker.h"

#include <algorithm>
#include <utility>

namespace rtsptest::core {

absl::Duration StreamLivenessChecker::IntervalFor(absl::Duration stall_timeout) {
  return std::min(stall_timeout / 4, absl::Milliseconds(250));
}

StreamLivenessChecker::StreamLivenessChecker(StreamManager* streams, absl::Duration interval,
                                             Callback on_evaluated)
    : streams_(streams), interval_(interval), on_evaluated_(std::move(on_evaluated)) {}

StreamLivenessChecker::~StreamLivenessChecker() { Stop(); }

void StreamLivenessChecker::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void StreamLivenessChecker::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void StreamLivenessChecker::Loop() {
  for (;;) {
    std::vector<StreamLiveness> states = streams_->EvaluateLiveness();
    if (on_evaluated_) on_evaluated_(states);
    absl::MutexLock lock(&mu_);
    // Sleeps for the interval, or until Stop().
    mu_.AwaitWithTimeout(absl::Condition(&stop_), interval_);
    if (stop_) return;
  }
}

}  // namespace rtsptest::core
