// HealthMonitor: probes every RTSP listener on a fixed interval on its own
// thread, applies the k-of-n rule, and publishes a HealthSnapshot.
//
// Health checks (gRPC Check/Watch, HTTP /health) read what was published;
// they never trigger a probe, so a flood of checks costs no RTSP traffic and
// a slow listener never slows a check.
#ifndef RTSPTEST_HEALTH_MONITOR_HEALTH_MONITOR_H_
#define RTSPTEST_HEALTH_MONITOR_HEALTH_MONITOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/k_of_n/k_of_n_rule.h"
#include "common/log/log.h"
#include "common/rtsp/rtsp_prober.h"
#include "health/monitor/health_snapshot.h"

namespace rtsptest::health {

using LogFields = std::vector<std::pair<std::string, std::string>>;
// Structured log sink: a message plus key/value fields (port, reason, ...).
// Levels are common/log's; the monitor uses kInfo, kWarning and kError.
using LogFn = std::function<void(common::LogLevel, const std::string& message, const LogFields&)>;

// Writes the event to the JSON-lines log (common/log) with "source":"health"
// ahead of its fields.
void LogToJsonLog(common::LogLevel level, const std::string& message, const LogFields& fields);

struct HealthMonitorOptions {
  std::vector<ListenerSpec> listeners;
  absl::Duration interval = absl::Seconds(2);  // From one round's end to the next's start.
  absl::Duration timeout = absl::Seconds(2);   // Per probe (connect + OPTIONS [+ DESCRIBE]).
  bool deep_check = false;
  // k of the rule; KOfNRule::DefaultK(listeners.size()) when unset.
  std::optional<int> min_healthy_listeners;
  LogFn log = LogToJsonLog;
};

class HealthMonitor {
 public:
  // InvalidArgument for no listeners, a bad k, a port outside 1..65535,
  // duplicate listener names, or a non-positive interval or timeout.
  // `publisher` must outlive the monitor.
  static absl::StatusOr<std::unique_ptr<HealthMonitor>> Create(HealthMonitorOptions options,
                                                               HealthPublisher* publisher);

  ~HealthMonitor();  // Stops the thread.
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // Starts the probe thread; the first round begins at once.
  // FailedPrecondition when already started.
  absl::Status Start();
  // Stops and joins the thread (waits for a round in flight, at most one
  // timeout). Idempotent. Publishes nothing.
  void Stop();

  // Drain: publishes a NOT_SERVING snapshot (draining = true) before
  // returning, and no snapshot after it ever says serving. Rounds go on so
  // that snapshot() stays informative. Idempotent. Also known as
  // MarkAllNotServing.
  void SetDraining();
  void MarkAllNotServing() { SetDraining(); }

  // Marks a listener bound or not (e.g. the server lost or rebound it). The
  // next round uses it. NotFound for an unknown name.
  absl::Status SetListenerBound(const std::string& name, bool bound);

  // Asks for a round now and waits until a round that started after this
  // call has completed and been published. Returns that round's snapshot,
  // or DeadlineExceeded after `timeout`; FailedPrecondition if not running.
  absl::StatusOr<HealthSnapshot> ProbeNow(absl::Duration timeout);

  // Waits until at least `round` rounds have completed. False on timeout.
  bool AwaitRound(int64_t round, absl::Duration timeout);

  // The last published snapshot (round 0 before the first round).
  HealthSnapshot snapshot() const;

  const common::KOfNRule& rule() const { return rule_; }

 private:
  HealthMonitor(HealthMonitorOptions options, common::KOfNRule rule, HealthPublisher* publisher);

  void Loop();
  void RunRound();
  // Logs listener and overall transitions between `before` and `after`.
  void LogChanges(const HealthSnapshot& before, const HealthSnapshot& after, bool draining) const;
  // Publishes under publish_mu_, applying the drain override.
  void PublishLocked(HealthSnapshot snapshot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(publish_mu_);

  const HealthMonitorOptions options_;
  const common::KOfNRule rule_;
  HealthPublisher* const publisher_;
  const common::RtspProber prober_;

  // Serializes publications and guards the drain flag, so that a round that
  // finishes after SetDraining() can never publish SERVING.
  absl::Mutex publish_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  bool draining_ ABSL_GUARDED_BY(publish_mu_) = false;

  mutable absl::Mutex mu_;
  std::vector<bool> bound_ ABSL_GUARDED_BY(mu_);
  HealthSnapshot snapshot_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool round_requested_ ABSL_GUARDED_BY(mu_) = false;
  int64_t rounds_started_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t rounds_completed_ ABSL_GUARDED_BY(mu_) = 0;

  std::thread thread_;
};

}  // namespace rtsptest::health

#endif  // RTSPTEST_HEALTH_MONITOR_HEALTH_MONITOR_H_
