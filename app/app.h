// App: the whole rtsp_test_server process minus main(): the RTSP server, the
// gRPC control plane, and the health monitor and stream liveness checker
// that tie them together.
//
// Lifecycle: Start() -> (serving) -> BeginDrain() on SIGTERM -> Stop().
#ifndef RTSPTEST_APP_APP_H_
#define RTSPTEST_APP_APP_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "control/auth/token_auth.h"
#include "control/grpc_server/control_plane_server.h"
#include "control/services/control_service.h"
#include "control/state/state_store.h"
#include "core/events/event_log.h"
#include "core/faults/fault_handlers.h"
#include "core/faults/fault_manager.h"
#include "core/server/server.h"
#include "core/stream/stream_liveness_checker.h"
#include "health/monitor/health_monitor.h"
#include "health/publisher/grpc_health_publisher.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::app {

class App {
 public:
  explicit App(config::v1::ServerConfig config);
  ~App();

  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Starts RTSP listeners and streams, the gRPC port and health probing.
  // FailedPrecondition when no RTSP port could bind, Unavailable when the
  // gRPC port cannot bind, InvalidArgument for an impossible health rule.
  absl::Status Start();
  // Drain: every health name turns NOT_SERVING before this returns, and the
  // RTSP ports stop accepting connections; sessions already open go on.
  void BeginDrain();
  // RTSP connections still open, over every listener.
  int OpenRtspConnections() const;
  // Stops everything. Idempotent.
  void Stop();
  // What GetHealthReport answers: the last probe round, the streams' last
  // liveness evaluation, and live counters.
  control::v1::HealthReport BuildHealthReport() const;

  core::Server& server() { return server_; }
  health::HealthMonitor* monitor() { return monitor_.get(); }
  int grpc_port() const { return control_ ? control_->port() : 0; }
  // host:port at which this process reaches its own gRPC port (a wildcard
  // bind is reached on loopback), e.g. for the embedded HTTP gateway.
  std::string local_grpc_address() const;

 private:
  const absl::Time started_at_ = absl::Now();
  // Before server_: stream removals at its destruction still publish here.
  core::EventLog events_;
  core::Server server_;
  // After server_: they act on the server's streams and listeners.
  std::unique_ptr<core::ServerFaultHandlers> fault_handlers_;
  std::unique_ptr<core::FaultManager> faults_;
  // The state file's store (null without one); the stream RPCs record into it.
  std::unique_ptr<control::StateStore> state_;
  std::unique_ptr<control::TokenAuth> token_auth_;
  std::unique_ptr<control::ControlServiceImpl> control_service_;
  std::unique_ptr<control::ControlPlaneServer> control_;
  std::unique_ptr<health::GrpcHealthPublisher> publisher_;
  std::unique_ptr<health::HealthMonitor> monitor_;
  std::unique_ptr<core::StreamLivenessChecker> liveness_;
};

}  // namespace rtsptest::app

#endif  // RTSPTEST_APP_APP_H_
