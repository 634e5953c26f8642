// WatchHealthReport: the health report, written to one watcher whenever it
// may have changed.
#ifndef RTSPTEST_CONTROL_SERVICES_HEALTH_WATCH_H_
#define RTSPTEST_CONTROL_SERVICES_HEALTH_WATCH_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/sync_stream.h>

#include <cstdint>
#include <functional>

#include "absl/time/time.h"
#include "rtsptest/control/v1/control.pb.h"

namespace rtsptest::control {

// What a health watch reads: the report, and a wait for it to change.
struct HealthFeed {
  std::function<v1::HealthReport()> report;
  // Waits until the health generation differs from `seen` (at most
  // `timeout`) and returns it (GrpcHealthPublisher::AwaitChange).
  std::function<uint64_t(uint64_t seen, absl::Duration timeout)> await_change;
};

// Writes the report now, then after each change of generation (a probe
// round, a name's status) and, with request.heartbeat, whenever that long
// passed without one; until the call is cancelled or a write fails.
// InvalidArgument for a heartbeat under 100 ms.
grpc::Status WatchHealthReport(const HealthFeed& feed, const v1::WatchHealthReportRequest& request,
                               grpc::ServerContext* context,
                               grpc::ServerWriter<v1::HealthReport>* writer);

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_SERVICES_HEALTH_WATCH_H_
