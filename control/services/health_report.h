// HealthReporter: what GetHealthReport answers, merged from the three places
// that know part of it: the RTSP engine (listeners, streams and their
// liveness), the health monitor's last probe round, and what the gRPC health
// service answers now.
#ifndef RTSPTEST_CONTROL_SERVICES_HEALTH_REPORT_H_
#define RTSPTEST_CONTROL_SERVICES_HEALTH_REPORT_H_

#include "absl/time/time.h"
#include "core/server/server.h"
#include "health/monitor/health_monitor.h"
#include "health/publisher/grpc_health_publisher.h"
#include "rtsptest/control/v1/control.pb.h"

namespace rtsptest::control {

class HealthReporter {
 public:
  // Every pointer must outlive the reporter; `monitor` and `publisher` may
  // be null (before health starts), and the report then says not serving.
  HealthReporter(const core::Server* server, const health::HealthMonitor* monitor,
                 const health::GrpcHealthPublisher* publisher, absl::Time started_at)
      : server_(server), monitor_(monitor), publisher_(publisher), started_at_(started_at) {}

  v1::HealthReport Build() const;

 private:
  void AddListeners(const health::HealthSnapshot& snapshot, v1::HealthReport* report) const;
  void AddStreams(v1::HealthReport* report) const;

  const core::Server* const server_;
  const health::HealthMonitor* const monitor_;
  const health::GrpcHealthPublisher* const publisher_;
  const absl::Time started_at_;
};

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_SERVICES_HEALTH_REPORT_H_
