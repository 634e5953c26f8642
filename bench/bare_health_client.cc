// bare_health_client: the least a gRPC C++ program can do for a health check
// (channel, one grpc.health.v1 Check, print the status), as the reference for
// health_probe's start-up time in bench/probe_startup_bench.sh.
//
//   bare_health_client <host:port> [service]
// Exit 0 when SERVING, 2 when the RPC failed, 4 otherwise. No flags, no
// connect phase of its own, no TLS: nothing health_probe does beyond this.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>

#include "grpc/health/v1/health.grpc.pb.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bare_health_client <host:port> [service]\n");
    return 1;
  }
  auto channel = grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  grpc::health::v1::HealthCheckRequest request;
  if (argc > 2) request.set_service(argv[2]);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status =
      grpc::health::v1::Health::NewStub(channel)->Check(&context, request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "rpc failed: %d %s\n", status.error_code(),
                 status.error_message().c_str());
    return 2;
  }
  std::printf("status: %s\n",
              grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status()).c_str());
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : 4;
}
