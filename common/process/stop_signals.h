// The stop signals of a server process, and the watchdog that bounds a stop.
//
// SIGTERM and SIGINT are blocked in every thread and taken synchronously with
// sigwait()/sigtimedwait(), so no async-signal-safety concern reaches the
// rest of the program. For every thread to inherit the mask, Install() must
// run before any thread starts (GStreamer, gRPC and the listeners all start
// their own).
//
//   StopSignals stop = StopSignals::Install();   // first thing in main
//   ... start serving ...
//   int signal = stop.Wait();                     // first signal: drain
//   while (draining) if (stop.WaitFor(100ms) != 0) std::_Exit(0);  // second
//   StartStopWatchdog(absl::Seconds(5), [] { /* log */ });
#ifndef RTSPTEST_COMMON_PROCESS_STOP_SIGNALS_H_
#define RTSPTEST_COMMON_PROCESS_STOP_SIGNALS_H_

#include <signal.h>

#include <functional>

#include "absl/time/time.h"

namespace rtsptest::common {

class StopSignals {
 public:
  // Blocks SIGTERM and SIGINT in the calling thread (and so in every thread
  // it starts later), and ignores SIGPIPE: a write to a socket the peer
  // closed must fail with EPIPE, not end the process.
  static StopSignals Install();

  // Blocks until SIGTERM or SIGINT arrives; returns it.
  int Wait() const;

  // As Wait(), but gives up after `timeout`: returns 0 then.
  int WaitFor(absl::Duration timeout) const;

  // "SIGTERM" or "SIGINT" (anything else: "another signal"), for logs.
  static const char* Name(int signal);

 private:
  StopSignals();

  sigset_t signals_;
};

// Ends the process with exit code 0 after `timeout`, from a detached thread,
// calling `on_expiry` first (to log why). A stop that hangs (an element that
// never finishes its state change, a client thread stuck in a send) must not
// turn a clean SIGTERM into an orchestrator's SIGKILL.
void StartStopWatchdog(absl::Duration timeout, std::function<void()> on_expiry);

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_PROCESS_STOP_SIGNALS_H_
