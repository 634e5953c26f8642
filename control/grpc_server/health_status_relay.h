// HealthStatusRelay: a grpc.health.v1 status table that outlives the
// grpc::Server it is published on.
//
// gRPC's default health service belongs to one grpc::Server; when the
// control plane rebuilds its server (see ListenerWatchdog), the health
// publisher must keep one pointer and the new server must start with the
// statuses the old one had. The relay remembers every status it is given,
// forwards it to the current server's service, and replays the table onto
// the next one.
#ifndef RTSPTEST_CONTROL_GRPC_SERVER_HEALTH_STATUS_RELAY_H_
#define RTSPTEST_CONTROL_GRPC_SERVER_HEALTH_STATUS_RELAY_H_

#include <grpcpp/health_check_service_interface.h>

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace rtsptest::control {

class HealthStatusRelay final : public grpc::HealthCheckServiceInterface {
 public:
  HealthStatusRelay() = default;

  // Forwards to `target` from now on (null: to nothing), after replaying
  // every status set so far onto it. `target` belongs to a grpc::Server and
  // must stay valid until the next Attach().
  void Attach(grpc::HealthCheckServiceInterface* target);

  // grpc::HealthCheckServiceInterface. Safe from any thread.
  void SetServingStatus(const std::string& service_name, bool serving) override;
  void SetServingStatus(bool serving) override;
  // Every name NOT_SERVING, and later changes ignored (as gRPC's own).
  void Shutdown() override;

 private:
  absl::Mutex mutex_;
  grpc::HealthCheckServiceInterface* target_ ABSL_GUARDED_BY(mutex_) = nullptr;
  // gRPC's default service starts with "" SERVING.
  std::map<std::string, bool> statuses_ ABSL_GUARDED_BY(mutex_) = {{"", true}};
  bool shut_down_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_GRPC_SERVER_HEALTH_STATUS_RELAY_H_
