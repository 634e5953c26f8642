// ControlPlaneServer implementation.
#include "control/grpc_server/control_plane_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/net/host_port.h"
#include "config/control_files.h"
#include "control/grpc_server/accept_probe.h"
#include "grpc/health/v1/health.pb.h"

namespace rtsptest::control {
namespace {

std::shared_ptr<grpc::ServerCredentials> Credentials(const ControlPlaneSecurity& security) {
  if (!security.tls()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      security.mtls() ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                      : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_root_certs = security.tls_client_ca_pem;
  options.pem_key_cert_pairs.push_back({security.tls_key_pem, security.tls_cert_pem});
  return grpc::SslServerCredentials(options);
}

// How long a self-check waits for the handshake. Under the interval, and
// long enough that a busy machine does not look like a dead port.
constexpr absl::Duration kSelfCheckTimeout = absl::Milliseconds(700);
// RPCs still running when the port is rebuilt: Watch streams never end by
// themselves; clients reconnect.
constexpr absl::Duration kRebuildGrace = absl::Milliseconds(100);

}  // namespace

absl::StatusOr<ControlPlaneSecurity> SecurityFromConfig(const config::v1::ControlPlane& control) {
  ControlPlaneSecurity security;
  if (control.has_token_file()) {
    absl::StatusOr<std::string> token = config::ReadControlTokenFile(control.token_file());
    if (!token.ok()) return token.status();
    security.token = *std::move(token);
  } else {
    security.token = control.token();
  }
  for (const auto& [file, pem, kind] :
       {std::tuple<const std::string&, std::string*, config::PemKind>{
            control.tls().cert_file(), &security.tls_cert_pem, config::PemKind::kCertificate},
        {control.tls().key_file(), &security.tls_key_pem, config::PemKind::kPrivateKey},
        {control.tls().client_ca_file(), &security.tls_client_ca_pem,
         config::PemKind::kCertificate}}) {
    if (file.empty()) continue;
    absl::StatusOr<std::string> contents = config::ReadPemFile(file, kind);
    if (!contents.ok()) return contents.status();
    *pem = *std::move(contents);
  }
  return security;
}

std::shared_ptr<grpc::ChannelCredentials> SelfChannelCredentials(
    const ControlPlaneSecurity& security) {
  if (!security.tls()) return grpc::InsecureChannelCredentials();
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_verify_server_certs(false);
  options.set_check_call_host(false);
  options.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  if (security.mtls()) {
    options.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
            std::vector<grpc::experimental::IdentityKeyCertPair>{
                {security.tls_key_pem, security.tls_cert_pem}}));
    options.watch_identity_key_cert_pairs();
  }
  return grpc::experimental::TlsCredentials(options);
}

ControlPlaneServer::ControlPlaneServer(std::string address, std::vector<grpc::Service*> services,
                                       ControlPlaneSecurity security)
    : address_(std::move(address)),
      services_(std::move(services)),
      security_(std::move(security)) {}

absl::StatusOr<std::unique_ptr<ControlPlaneServer>> ControlPlaneServer::Start(
    const std::string& address, uint32_t port, const std::vector<grpc::Service*>& services,
    const ControlPlaneSecurity& security, absl::Duration self_check_interval) {
  std::unique_ptr<ControlPlaneServer> self(new ControlPlaneServer(address, services, security));
  absl::StatusOr<std::unique_ptr<grpc::Server>> server =
      self->Build(static_cast<int>(port), &self->port_);
  if (!server.ok()) return server.status();
  self->server_ = *std::move(server);
  self->health_.Attach(self->server_->GetHealthCheckService());
  if (self_check_interval > absl::ZeroDuration()) {
    ControlPlaneServer* raw = self.get();
    const std::string target = common::JoinHostPort(common::LoopbackFor(address), self->port_);
    self->watchdog_ = std::make_unique<ListenerWatchdog>(
        ListenerWatchdog::Options{self_check_interval, self->port_},
        [raw, target, credentials = SelfChannelCredentials(security)] {
          // No server after a failed rebuild: nobody accepts.
          if (raw->server_ == nullptr) return AcceptProbeResult::kNotAccepted;
          return ProbeAccept(target, credentials, kSelfCheckTimeout);
        },
        [raw] { return raw->Rebuild(); });
    self->watchdog_->Start();
  }
  return self;
}

absl::StatusOr<std::unique_ptr<grpc::Server>> ControlPlaneServer::Build(int port, int* bound_port) {
  // Both switches are read when the server is built, process-wide.
  grpc::EnableDefaultHealthCheckService(true);
  // gRPC's built-in health service does not register grpc.health.v1's
  // descriptors; reflection (grpcurl) finds them only if the generated code is
  // linked in, and a static link keeps it only if something refers to it.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: a second server on the same port would
  // start silently and take half the health checks. One port, one server.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int bound = 0;
  builder.AddListeningPort(common::JoinHostPort(address_, port), Credentials(security_), &bound);
  for (grpc::Service* service : services_) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound == 0) {
    return absl::UnavailableError(absl::StrCat("control plane: cannot listen on ",
                                               common::JoinHostPort(address_, port),
                                               " (port in use?)"));
  }
  if (bound_port != nullptr) *bound_port = bound;
  return server;
}

absl::Status ControlPlaneServer::Rebuild() {
  // Statuses set meanwhile are kept by the relay and replayed below.
  health_.Attach(nullptr);
  if (server_ != nullptr) {
    // Closes the abandoned listening socket too, which frees the port
    // (SO_REUSEPORT is off).
    server_->Shutdown(absl::ToChronoTime(absl::Now() + kRebuildGrace));
    server_->Wait();
    server_.reset();
  }
  absl::StatusOr<std::unique_ptr<grpc::Server>> server = Build(port_, nullptr);
  if (!server.ok()) return server.status();
  server_ = *std::move(server);
  health_.Attach(server_->GetHealthCheckService());
  return absl::OkStatus();
}

ControlPlaneServer::~ControlPlaneServer() { Shutdown(absl::ZeroDuration()); }

void ControlPlaneServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  // First: no rebuild may start a server again while this one stops.
  if (watchdog_) watchdog_->Stop();
  if (server_ == nullptr) return;
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

}  // namespace rtsptest::control
