// ControlPlaneServer: the server's gRPC port.
//
// One grpc::Server carries gRPC's own health service (grpc.health.v1, whose
// statuses the health monitor sets), server reflection (so grpcurl works),
// and the control services registered by the caller. A ListenerWatchdog
// rebuilds that grpc::Server on the same port, with the same services and
// health statuses, when the port stops accepting connections (gRPC 1.51
// abandons its listener after EMFILE, grpc/grpc#20418).
#ifndef RTSPTEST_CONTROL_GRPC_SERVER_CONTROL_PLANE_SERVER_H_
#define RTSPTEST_CONTROL_GRPC_SERVER_CONTROL_PLANE_SERVER_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "control/grpc_server/health_status_relay.h"
#include "control/grpc_server/listener_watchdog.h"
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

// Credentials with which this process reaches its own gRPC port (the
// embedded HTTP gateway, the listener watchdog): plaintext, or TLS without
// verifying the server (it is this process, on loopback, and its certificate
// need not name the loopback address) and, for mTLS, with the server's own
// certificate as the client's: the client CAs must then have signed it.
std::shared_ptr<grpc::ChannelCredentials> SelfChannelCredentials(
    const ControlPlaneSecurity& security);

// How often the gRPC port checks that it still accepts connections; zero: never.
inline constexpr absl::Duration kDefaultSelfCheckInterval = absl::Seconds(1);

class ControlPlaneServer {
 public:
  // Binds `address:port` (port 0: any free port) and starts serving, with
  // the TLS of `security`. Unavailable when the port cannot be
  // bound (or TLS cannot start). `services` must outlive the server.
  // Every `self_check_interval` the port is probed over loopback and, when
  // a connection hangs unaccepted, rebuilt.
  static absl::StatusOr<std::unique_ptr<ControlPlaneServer>> Start(
      const std::string& address, uint32_t port, const std::vector<grpc::Service*>& services,
      const ControlPlaneSecurity& security = {},
      absl::Duration self_check_interval = kDefaultSelfCheckInterval);
  ~ControlPlaneServer();

  int port() const { return port_; }
  // The grpc.health.v1 table; it carries over a rebuild. Owned by this.
  grpc::HealthCheckServiceInterface* health() { return &health_; }
  // Times the port was rebuilt after it stopped accepting.
  int recoveries() const { return watchdog_ ? watchdog_->recoveries() : 0; }
  // Stops accepting RPCs, cancels what is still running after `grace`.
  void Shutdown(absl::Duration grace);

 private:
  ControlPlaneServer(std::string address, std::vector<grpc::Service*> services,
                     ControlPlaneSecurity security);
  // A grpc::Server on `port` with every service; Unavailable if it cannot
  // bind. Sets `*bound_port`.
  absl::StatusOr<std::unique_ptr<grpc::Server>> Build(int port, int* bound_port);
  // Replaces server_ by a new one on port_ (on the watchdog's thread).
  absl::Status Rebuild();

  const std::string address_;
  const std::vector<grpc::Service*> services_;
  const ControlPlaneSecurity security_;
  HealthStatusRelay health_;
  // Null only between a failed rebuild and the next one.
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
  // Last: stopped (by Shutdown()) before server_ goes.
  std::unique_ptr<ListenerWatchdog> watchdog_;
};

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_GRPC_SERVER_CONTROL_PLANE_SERVER_H_
