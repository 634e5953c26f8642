// The stop signals and the stop watchdog (see stop_signals.h).
#include "common/process/stop_signals.h"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <thread>
#include <utility>

#include "absl/time/clock.h"

namespace rtsptest::common {

StopSignals::StopSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGINT);
}

StopSignals StopSignals::Install() {
  StopSignals stop;
  pthread_sigmask(SIG_BLOCK, &stop.signals_, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return stop;
}

int StopSignals::Wait() const {
  int signal = 0;
  // sigwait() returns an error only for an invalid set, which this is not.
  while (sigwait(&signals_, &signal) != 0) {
  }
  return signal;
}

int StopSignals::WaitFor(absl::Duration timeout) const {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return 0;
    timespec slice = absl::ToTimespec(left);
    int signal = sigtimedwait(&signals_, nullptr, &slice);
    if (signal > 0) return signal;
    // EINTR: another signal's handler ran; wait for the rest of the time.
    if (errno != EINTR) return 0;
  }
}

const char* StopSignals::Name(int signal) {
  switch (signal) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    default:
      return "another signal";
  }
}

void StartStopWatchdog(absl::Duration timeout, std::function<void()> on_expiry) {
  std::thread([timeout, on_expiry = std::move(on_expiry)] {
    absl::SleepFor(timeout);
    if (on_expiry) on_expiry();
    std::_Exit(0);
  }).detach();
}

}  // namespace rtsptest::common
