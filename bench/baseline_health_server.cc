// baseline_health_server: the reference point of //bench:health_check_bench.
//
// A plain grpc++ server with gRPC's own health service
// (EnableDefaultHealthCheckService) holding a fixed SERVING status for "",
// and nothing else: what rtsp_test_server's Check path would cost with no
// RTSP server, GStreamer or health monitor around it. Same library, same
// build flags, same sync server as rtsp_test_server's control plane.
//
//   baseline_health_server [--port=N] [--address=127.0.0.1]
//
// Prints "baseline_health_server listening port=<port>" on stdout once
// serving, then serves until SIGTERM or SIGINT (exit 0) or until its parent
// dies (PR_SET_PDEATHSIG), so that a crashed benchmark leaves nothing behind.
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <sys/prctl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "common/process/stop_signals.h"

namespace {

int Main(int argc, char** argv) {
  std::string address = "127.0.0.1";
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--port=", 7) == 0) {
      port = std::atoi(argv[i] + 7);
    } else if (std::strncmp(argv[i], "--address=", 10) == 0) {
      address = argv[i] + 10;
    } else {
      std::fprintf(stderr, "usage: baseline_health_server [--port=N] [--address=A]\n");
      return 1;
    }
  }
  // Before gRPC's threads start, so that every thread inherits the mask.
  const rtsptest::common::StopSignals stop = rtsptest::common::StopSignals::Install();
  prctl(PR_SET_PDEATHSIG, SIGTERM);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(address + ":" + std::to_string(port), grpc::InsecureServerCredentials(),
                           &bound_port);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound_port == 0) {
    std::fprintf(stderr, "baseline_health_server: cannot listen on %s:%d\n", address.c_str(), port);
    return 2;
  }
  server->GetHealthCheckService()->SetServingStatus("", true);
  std::printf("baseline_health_server listening port=%d\n", bound_port);
  std::fflush(stdout);

  stop.Wait();
  server->Shutdown();
  server->Wait();
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
