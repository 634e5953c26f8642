// The signals of a server process, and the watchdog that bounds a stop.
//
// Every signal in the table below is blocked in every thread and taken
// synchronously with sigwait()/sigtimedwait(), so no async-signal-safety
// concern reaches the rest of the program. For every thread to inherit the
// mask, Install() must run before any thread starts (GStreamer, gRPC and the
// listeners all start their own), and before anything slow (config loading,
// plugin loading), so that no signal in that window has its default action
// of ending the process.
//
//   Signal    Meaning
//   SIGTERM   stop: drain, then exit 0
//   SIGINT    stop, as SIGTERM
//   SIGQUIT   stop, as SIGTERM (no core dump: a test server has no use for one)
//   SIGHUP    ignored, logged: configuration reload is not supported
//   SIGUSR1   ignored, logged: no meaning is assigned
//   SIGUSR2   ignored, logged: no meaning is assigned
//   SIGALRM   ignored, logged: the server sets no alarms
//   SIGPIPE   ignored (SIG_IGN): a write to a closed socket fails with EPIPE
//
// An ignored signal is logged once per kind ("signal SIGHUP ignored: ..."),
// the first time Wait() or WaitFor() takes it; later ones of the same kind are
// dropped silently so that a loop sending SIGHUP cannot flood the log.
//
//   StopSignals stop = StopSignals::Install();   // first thing in main
//   ... start serving ...
//   int signal = stop.Wait();                     // first stop signal: drain
//   while (draining) if (stop.WaitFor(100ms) != 0) std::_Exit(0);  // second
//   StartStopWatchdog(absl::Seconds(5), [] { /* log */ });
#ifndef RTSPTEST_COMMON_PROCESS_STOP_SIGNALS_H_
#define RTSPTEST_COMMON_PROCESS_STOP_SIGNALS_H_

#include <signal.h>

#include <bitset>
#include <functional>

#include "absl/time/time.h"

namespace rtsptest::common {

class StopSignals {
 public:
  // Blocks the stop and ignored signals of the table above in the calling
  // thread (and so in every thread it starts later), and ignores SIGPIPE.
  static StopSignals Install();

  // Unblocks the stop signals (SIGTERM, SIGINT, SIGQUIT) again, so that they
  // end the process at once with their default action: for one-shot modes
  // (--check_config, --list_plugins) that have nothing to drain. The ignored
  // signals stay blocked, and so are never delivered.
  void ReleaseStopSignals() const;

  // Blocks until SIGTERM, SIGINT or SIGQUIT arrives; returns it. Ignored
  // signals that arrive meanwhile are logged (once per kind) and dropped.
  int Wait() const;

  // As Wait(), but gives up after `timeout`: returns 0 then.
  int WaitFor(absl::Duration timeout) const;

  // "SIGTERM", "SIGHUP", ... for the signals of the table (anything else:
  // "another signal"), for logs.
  static const char* Name(int signal);

  // Why a signal is ignored ("configuration reload is not supported"), or
  // nullptr for a signal that is not in the ignored set.
  static const char* IgnoredBecause(int signal);

 private:
  StopSignals();

  // Logs an ignored signal the first time its kind arrives.
  void ReportIgnored(int signal) const;

  sigset_t stop_signals_;
  sigset_t taken_signals_;  // stop signals and ignored signals
  // Kinds of ignored signal already logged. Only the thread that waits
  // touches it (one waiter per process by design).
  mutable std::bitset<NSIG> reported_;
};

// Ends the process with exit code 0 after `timeout`, from a detached thread,
// calling `on_expiry` first (to log why). A stop that hangs (an element that
// never finishes its state change, a client thread stuck in a send) must not
// turn a clean SIGTERM into an orchestrator's SIGKILL.
void StartStopWatchdog(absl::Duration timeout, std::function<void()> on_expiry);

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_PROCESS_STOP_SIGNALS_H_
