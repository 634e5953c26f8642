// ControlPlaneServer: the server's gRPC port.
//
// One grpc::Server carries gRPC's own health service (grpc.health.v1, whose
// statuses the health monitor sets), server reflection (so grpcurl works),
// and the control services registered by the caller.
#ifndef RTSPTEST_CONTROL_GRPC_SERVER_CONTROL_PLANE_SERVER_H_
#define RTSPTEST_CONTROL_GRPC_SERVER_CONTROL_PLANE_SERVER_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rtsptest::control {

class ControlPlaneServer {
 public:
  // Binds `address:port` (port 0: any free port) and starts serving.
  // Unavailable when the port cannot be bound. `services` must outlive the
  // server.
  static absl::StatusOr<std::unique_ptr<ControlPlaneServer>> Start(
      const std::string& address, uint32_t port, const std::vector<grpc::Service*>& services);
  ~ControlPlaneServer();

  int port() const { return port_; }
  // gRPC's health table; owned by the server.
  grpc::HealthCheckServiceInterface* health() { return server_->GetHealthCheckService(); }
  // Stops accepting RPCs, cancels what is still running after `grace`.
  void Shutdown(absl::Duration grace);

 private:
  ControlPlaneServer(std::unique_ptr<grpc::Server> server, int port)
      : server_(std::move(server)), port_(port) {}
  std::unique_ptr<grpc::Server> server_;
  int port_;
  bool shut_down_ = false;
};

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_GRPC_SERVER_CONTROL_PLANE_SERVER_H_
