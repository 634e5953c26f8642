// HealthSnapshot and HealthPublisher: what the monitor knows after a probe
// round, and the interface through which it tells the rest of the server.
//
// The monitor decides; publishers only translate a snapshot into their
// medium (gRPC health names, metrics, the HTTP gateway).
#ifndef RTSPTEST_HEALTH_MONITOR_HEALTH_SNAPSHOT_H_
#define RTSPTEST_HEALTH_MONITOR_HEALTH_SNAPSHOT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/rtsp/rtsp_prober.h"

namespace rtsptest::health {

// One RTSP listener as the server configured it.
struct ListenerSpec {
  std::string name;                // e.g. "rtsp-8554"
  std::string host = "127.0.0.1";  // Where to probe: the bind address, or
                                   // loopback for a wildcard bind.
  int port = 0;
  bool bound = true;          // False when the server failed to bind it.
  std::string describe_path;  // Mount for the deep check (no leading '/').
};

// The monitor's view of one listener after the last round.
struct ListenerHealth {
  ListenerSpec listener;
  bool serving = false;
  common::ProbeFailure failure = common::ProbeFailure::kNone;
  std::string last_error;       // Reason of the last failure ("" when up).
  absl::Duration last_latency;  // Of the last probe (zero when not probed).
  int consecutive_failures = 0;
};

struct HealthSnapshot {
  std::vector<ListenerHealth> listeners;  // In ListenerSpec order.
  int64_t round = 0;                      // Completed probe rounds.
  bool first_round_done = false;
  bool draining = false;  // Once true, every name is NOT_SERVING for good.
  int healthy_listeners = 0;
  int min_healthy_listeners = 0;  // k of the rule.
  // The rule's verdict: first_round_done && !draining && healthy >= k.
  bool serving = false;
  absl::Time time;  // When the round (or the drain) finished.
};

// Receives each snapshot. Publish is called from the monitor's thread (or
// from the thread calling HealthMonitor::SetDraining), never concurrently.
class HealthPublisher {
 public:
  virtual ~HealthPublisher() = default;
  virtual void Publish(const HealthSnapshot& snapshot) = 0;
};

}  // namespace rtsptest::health

#endif  // RTSPTEST_HEALTH_MONITOR_HEALTH_SNAPSHOT_H_
