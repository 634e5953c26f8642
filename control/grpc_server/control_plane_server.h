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
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::control {

// Who may use the gRPC port. Holds secrets: never log it.
struct ControlPlaneSecurity {
  // Bearer token of the mutating control RPCs (TokenAuth); empty: the API
  // is open.
  std::string token;
  // PEM; both empty: plaintext.
  std::string tls_cert_pem;
  std::string tls_key_pem;
  // PEM; set: clients must present a certificate these CAs signed (mTLS).
  std::string tls_client_ca_pem;

  bool tls() const { return !tls_cert_pem.empty(); }
  bool mtls() const { return tls() && !tls_client_ca_pem.empty(); }
};

// The security of a validated config: the token, the PEM files read.
// InvalidArgument naming the file when one cannot be read any more.
absl::StatusOr<ControlPlaneSecurity> SecurityFromConfig(const config::v1::ControlPlane& control);

class ControlPlaneServer {
 public:
  // Binds `address:port` (port 0: any free port) and starts serving, with
  // the TLS of `security`. Unavailable when the port cannot be
  // bound (or TLS cannot start). `services` must outlive the server.
  static absl::StatusOr<std::unique_ptr<ControlPlaneServer>> Start(
      const std::string& address, uint32_t port, const std::vector<grpc::Service*>& services,
      const ControlPlaneSecurity& security = {});
  ~ControlPlaneServer();

  int port() const { return port_; }
  // gRPC's health table; owned by the server.
  grpc::HealthCheckServiceInterface* health() { return server_->GetHealthCheckService(); }
  // Stops accepting RPCs, cancels what is still running after `grace`.
  void Shutdown(absl::Duration grace);

 private:
  ControlPlaneServer() = default;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_GRPC_SERVER_CONTROL_PLANE_SERVER_H_
