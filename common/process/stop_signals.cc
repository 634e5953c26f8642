// The process signals and the stop watchdog (see stop_signals.h).
#include "common/process/stop_signals.h"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log/log.h"

namespace rtsptest::common {
namespace {

constexpr int kStopSignals[] = {SIGTERM, SIGINT, SIGQUIT};

struct IgnoredSignal {
  int signal;
  const char* because;
};

constexpr IgnoredSignal kIgnoredSignals[] = {
    {SIGHUP, "configuration reload is not supported; restart the server to change it"},
    {SIGUSR1, "no meaning is assigned to it"},
    {SIGUSR2, "no meaning is assigned to it"},
    {SIGALRM, "the server sets no alarms"},
};

}  // namespace

StopSignals::StopSignals() {
  sigemptyset(&stop_signals_);
  for (int signal : kStopSignals) sigaddset(&stop_signals_, signal);
  taken_signals_ = stop_signals_;
  for (const IgnoredSignal& ignored : kIgnoredSignals) sigaddset(&taken_signals_, ignored.signal);
}

StopSignals StopSignals::Install() {
  StopSignals signals;
  pthread_sigmask(SIG_BLOCK, &signals.taken_signals_, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

void StopSignals::ReleaseStopSignals() const {
  pthread_sigmask(SIG_UNBLOCK, &stop_signals_, nullptr);
}

int StopSignals::Wait() const {
  while (true) {
    int signal = 0;
    // sigwait() returns an error only for an invalid set, which this is not.
    if (sigwait(&taken_signals_, &signal) != 0) continue;
    if (sigismember(&stop_signals_, signal)) return signal;
    ReportIgnored(signal);
  }
}

int StopSignals::WaitFor(absl::Duration timeout) const {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return 0;
    timespec slice = absl::ToTimespec(left);
    int signal = sigtimedwait(&taken_signals_, nullptr, &slice);
    if (signal > 0) {
      if (sigismember(&stop_signals_, signal)) return signal;
      ReportIgnored(signal);
      continue;
    }
    // EINTR: another signal's handler ran; wait for the rest of the time.
    if (errno != EINTR) return 0;
  }
}

void StopSignals::ReportIgnored(int signal) const {
  if (signal <= 0 || signal >= NSIG || reported_.test(signal)) return;
  reported_.set(signal);
  const char* because = IgnoredBecause(signal);
  Log(LogLevel::kWarning,
      absl::StrCat("signal ", Name(signal), " ignored: ", because != nullptr ? because : "unknown"),
      {{"signal", Name(signal)}});
}

const char* StopSignals::Name(int signal) {
  switch (signal) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGQUIT:
      return "SIGQUIT";
    case SIGHUP:
      return "SIGHUP";
    case SIGUSR1:
      return "SIGUSR1";
    case SIGUSR2:
      return "SIGUSR2";
    case SIGALRM:
      return "SIGALRM";
    default:
      return "another signal";
  }
}

const char* StopSignals::IgnoredBecause(int signal) {
  for (const IgnoredSignal& ignored : kIgnoredSignals) {
    if (ignored.signal == signal) return ignored.because;
  }
  return nullptr;
}

void StartStopWatchdog(absl::Duration timeout, std::function<void()> on_expiry) {
  std::thread([timeout, on_expiry = std::move(on_expiry)] {
    absl::SleepFor(timeout);
    if (on_expiry) on_expiry();
    std::_Exit(0);
  }).detach();
}

}  // namespace rtsptest::common
