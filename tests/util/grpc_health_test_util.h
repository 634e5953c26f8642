// Real gRPC servers for health tests: one with gRPC's default health
// service, one without any service (every call is UNIMPLEMENTED).
#ifndef RTSPTEST_TESTS_UTIL_GRPC_HEALTH_TEST_UTIL_H_
#define RTSPTEST_TESTS_UTIL_GRPC_HEALTH_TEST_UTIL_H_

#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"

namespace rtsptest::testing {

struct TestGrpcServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
  grpc::HealthCheckServiceInterface* health() const { return server->GetHealthCheckService(); }
};

// Listens on 127.0.0.1:0. `with_health` turns gRPC's default health service
// on for this server only (the switch is process-global and read at build).
inline TestGrpcServer StartTestGrpcServer(bool with_health) {
  grpc::EnableDefaultHealthCheckService(with_health);
  TestGrpcServer s;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &s.port);
  s.server = builder.BuildAndStart();
  grpc::EnableDefaultHealthCheckService(false);
  return s;
}

}  // namespace rtsptest::testing

#endif  // RTSPTEST_TESTS_UTIL_GRPC_HEALTH_TEST_UTIL_H_
