// ListenerWatchdog: notices that the gRPC port stopped accepting connections
// and has it rebuilt.
//
// Once a second it runs a probe (see ProbeAccept). A probe that hangs
// unanswered means the listener is gone while the process lives on (gRPC
// 1.51 after EMFILE, grpc/grpc#20418): the watchdog then calls `rebuild`,
// and logs one line per recovery with how long the port had been dead.
// While descriptors are exhausted the probe cannot run and nothing is done
// or logged; the rebuild comes with the first probe after they return. A
// probe that keeps failing otherwise (not a hang) slows the probes down.
#ifndef RTSPTEST_CONTROL_GRPC_SERVER_LISTENER_WATCHDOG_H_
#define RTSPTEST_CONTROL_GRPC_SERVER_LISTENER_WATCHDOG_H_

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "control/grpc_server/accept_probe.h"

namespace rtsptest::control {

class ListenerWatchdog {
 public:
  struct Options {
    // Time between the starts of two probes that could open a connection.
    absl::Duration interval = absl::Seconds(1);
    // For the log line.
    int port = 0;
    // After this many probes in a row that failed without hanging (e.g. a
    // TLS handshake the server rejects: mTLS whose client CAs did not sign
    // the server's own certificate), probes come only every
    // `failing_interval`, so that the server's own log of each rejected
    // handshake stays rare. A warning says so, once.
    int failures_before_slowing = 3;
    absl::Duration failing_interval = absl::Seconds(30);
  };
  using Probe = std::function<AcceptProbeResult()>;
  // Replaces the listener; an error is retried on the next interval.
  using Rebuild = std::function<absl::Status()>;

  ListenerWatchdog(Options options, Probe probe, Rebuild rebuild);
  ~ListenerWatchdog();  // Stop()

  ListenerWatchdog(const ListenerWatchdog&) = delete;
  ListenerWatchdog& operator=(const ListenerWatchdog&) = delete;

  // Starts probing on a thread of its own.
  void Start();
  // Returns once no probe or rebuild runs any more. Idempotent.
  void Stop();
  // Rebuilds done so far.
  int recoveries() const;

 private:
  void Run();
  // One probe, and the rebuild it calls for; returns the probe's result.
  AcceptProbeResult Tick();

  const Options options_;
  const Probe probe_;
  const Rebuild rebuild_;
  std::thread thread_;
  mutable absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  int recoveries_ ABSL_GUARDED_BY(mutex_) = 0;
  // Only the watchdog's thread uses these.
  absl::Time last_accepted_ = absl::Now();
  // A failed rebuild is logged once per dead period, not once a second.
  bool rebuild_failure_logged_ = false;
  // Probes in a row that returned kFailed.
  int failures_in_a_row_ = 0;
};

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_GRPC_SERVER_LISTENER_WATCHDOG_H_
