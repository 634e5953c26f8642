// ControlPlaneServer implementation.
#include "control/grpc_server/control_plane_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>

#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/net/host_port.h"
#include "config/control_files.h"
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

absl::StatusOr<std::unique_ptr<ControlPlaneServer>> ControlPlaneServer::Start(
    const std::string& address, uint32_t port, const std::vector<grpc::Service*>& services,
    const ControlPlaneSecurity& security) {
  std::unique_ptr<ControlPlaneServer> self(new ControlPlaneServer());
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
  int bound_port = 0;
  builder.AddListeningPort(common::JoinHostPort(address, port), Credentials(security), &bound_port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound_port == 0) {
    return absl::UnavailableError(absl::StrCat("control plane: cannot listen on ",
                                               common::JoinHostPort(address, port),
                                               " (port in use?)"));
  }
  self->server_ = std::move(server);
  self->port_ = bound_port;
  return self;
}

ControlPlaneServer::~ControlPlaneServer() {
  if (server_) Shutdown(absl::ZeroDuration());
}

void ControlPlaneServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

}  // namespace rtsptest::control
