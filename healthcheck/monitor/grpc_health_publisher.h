// GrpcHealthPublisher: turns HealthSnapshots into grpc.health.v1 statuses
// on gRPC's own health service (ServerBuilder with
// grpc::EnableDefaultHealthCheckService(true), then
// server->GetHealthCheckService()).
//
// Names:  ""            overall: the k-of-n rule
//         "rtsp"        the same rule
//         "rtsp:<port>" one per listener
//         "control"     SERVING until draining
// Check answers from gRPC's in-memory table, so it costs no probing.
#ifndef HEALTHCHECK_MONITOR_GRPC_HEALTH_PUBLISHER_H_
#define HEALTHCHECK_MONITOR_GRPC_HEALTH_PUBLISHER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/health_check_service_interface.h"
#include "healthcheck/monitor/health_snapshot.h"

namespace rtsptest::health {

class GrpcHealthPublisher : public HealthPublisher {
 public:
  static constexpr char kOverallName[] = "";
  static constexpr char kRtspName[] = "rtsp";
  static constexpr char kControlName[] = "control";
  // "rtsp:8554".
  static std::string ListenerName(int port);

  // Registers every name at once, so that Check never says NOT_FOUND for a
  // known name: "", "rtsp" and "rtsp:<port>" NOT_SERVING until the first
  // round, "control" SERVING. `service` must outlive this publisher.
  GrpcHealthPublisher(grpc::HealthCheckServiceInterface* service,
                      const std::vector<ListenerSpec>& listeners);

  // Sets each name from the snapshot; a draining snapshot turns every name
  // NOT_SERVING for good (later snapshots change nothing).
  void Publish(const HealthSnapshot& snapshot) override;

 private:
  // Calls SetServingStatus only when the value changes: gRPC sends every
  // call to Watch streams, and a Watch must see each transition once.
  void SetLocked(const std::string& name, bool serving) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  grpc::HealthCheckServiceInterface* const service_;
  absl::Mutex mu_;
  std::map<std::string, bool> current_ ABSL_GUARDED_BY(mu_);
  bool drained_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace rtsptest::health

#endif  // HEALTHCHECK_MONITOR_GRPC_HEALTH_PUBLISHER_H_
