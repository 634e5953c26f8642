// ControlPlaneServer implementation.
#include "control/grpc_server/control_plane_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>

#include "absl/strings/str_cat.h"
#include "common/net/host_port.h"
#include "grpc/health/v1/health.pb.h"

namespace rtsptest::control {

absl::StatusOr<std::unique_ptr<ControlPlaneServer>> ControlPlaneServer::Start(
    const std::string& address, uint32_t port, const std::vector<grpc::Service*>& services) {
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
  builder.AddListeningPort(common::JoinHostPort(address, port), grpc::InsecureServerCredentials(),
                           &bound_port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound_port == 0) {
    return absl::UnavailableError(absl::StrCat("control plane: cannot listen on ",
                                               common::JoinHostPort(address, port),
                                               " (port in use?)"));
  }
  return std::unique_ptr<ControlPlaneServer>(new ControlPlaneServer(std::move(server), bound_port));
}

ControlPlaneServer::~ControlPlaneServer() { Shutdown(absl::ZeroDuration()); }

void ControlPlaneServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

}  // namespace rtsptest::control
