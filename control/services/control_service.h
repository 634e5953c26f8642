// ControlServiceImpl: rtsptest.control.v1.ControlService on the gRPC port.
//
// A thin edge: each RPC takes the caller's host from the request, hands the
// call to the class that does that job (StreamApi for streams, ListPlugins,
// ServerInfoBuilder, the health report callback) and converts the result's
// absl::Status to a grpc::Status. It holds no state of its own.
#ifndef RTSPTEST_CONTROL_SERVICES_CONTROL_SERVICE_H_
#define RTSPTEST_CONTROL_SERVICES_CONTROL_SERVICE_H_

#include <functional>
#include <vector>

#include "absl/time/time.h"
#include "control/auth/token_auth.h"
#include "control/services/health_watch.h"
#include "control/services/server_info.h"
#include "control/services/session_api.h"
#include "control/services/stream_api.h"
#include "core/events/event_log.h"
#include "core/faults/fault_manager.h"
#include "core/listener/rtsp_listener.h"
#include "core/plugin_host/plugin_loader.h"
#include "core/stream/stream_manager.h"
#include "health/monitor/health_snapshot.h"
#include "rtsptest/config/v1/config.pb.h"
#include "rtsptest/control/v1/control.grpc.pb.h"

namespace rtsptest::control {

// What the service needs from the server. Every pointer must outlive the
// service.
struct ControlServiceDeps {
  // GetHealthReport's answer and WatchHealthReport's changes.
  HealthFeed health;
  core::StreamManager* streams = nullptr;
  core::PluginLoader* plugins = nullptr;
  // The server's validated config (the listeners a stream may name).
  const config::v1::ServerConfig* config = nullptr;
  std::vector<core::RtspListener*> listeners;
  // The health monitor's last snapshot (ListenerInfo.healthy); may be null.
  std::function<health::HealthSnapshot()> health_snapshot;
  absl::Time started_at;
  // Who may call the mutating RPCs; must not be null (an open TokenAuth
  // when no token is set).
  const TokenAuth* auth = nullptr;
  // What WatchEvents reads; must not be null.
  const core::EventLog* events = nullptr;
  // InjectFault, ClearFaults, ListFaults; must not be null.
  core::FaultManager* faults = nullptr;
  // Records the stream RPCs' changes; null without a state file.
  StateStore* state = nullptr;
};

class ControlServiceImpl final : public v1::ControlService::Service {
 public:
  explicit ControlServiceImpl(ControlServiceDeps deps);

  grpc::Status GetHealthReport(grpc::ServerContext* context,
                               const v1::GetHealthReportRequest* request,
                               v1::HealthReport* response) override;
  grpc::Status GetServerInfo(grpc::ServerContext* context, const v1::GetServerInfoRequest* request,
                             v1::ServerInfo* response) override;
  grpc::Status ListPlugins(grpc::ServerContext* context, const v1::ListPluginsRequest* request,
                           v1::ListPluginsResponse* response) override;
  grpc::Status ListStreams(grpc::ServerContext* context, const v1::ListStreamsRequest* request,
                           v1::ListStreamsResponse* response) override;
  grpc::Status GetStream(grpc::ServerContext* context, const v1::GetStreamRequest* request,
                         v1::StreamStatus* response) override;
  grpc::Status CreateStream(grpc::ServerContext* context, const v1::CreateStreamRequest* request,
                            v1::StreamStatus* response) override;
  grpc::Status UpdateStream(grpc::ServerContext* context, const v1::UpdateStreamRequest* request,
                            v1::StreamStatus* response) override;
  grpc::Status DeleteStream(grpc::ServerContext* context, const v1::DeleteStreamRequest* request,
                            v1::DeleteStreamResponse* response) override;
  grpc::Status ApplyStreams(grpc::ServerContext* context, const v1::ApplyStreamsRequest* request,
                            v1::ApplyStreamsResponse* response) override;
  grpc::Status ListSessions(grpc::ServerContext* context, const v1::ListSessionsRequest* request,
                            v1::ListSessionsResponse* response) override;
  grpc::Status KickSessions(grpc::ServerContext* context, const v1::KickSessionsRequest* request,
                            v1::KickSessionsResponse* response) override;
  grpc::Status InjectFault(grpc::ServerContext* context, const v1::InjectFaultRequest* request,
                           v1::Fault* response) override;
  grpc::Status ClearFaults(grpc::ServerContext* context, const v1::ClearFaultsRequest* request,
                           v1::ClearFaultsResponse* response) override;
  grpc::Status ListFaults(grpc::ServerContext* context, const v1::ListFaultsRequest* request,
                          v1::ListFaultsResponse* response) override;
  grpc::Status WatchEvents(grpc::ServerContext* context, const v1::WatchEventsRequest* request,
                           grpc::ServerWriter<v1::Event>* writer) override;
  grpc::Status WatchHealthReport(grpc::ServerContext* context,
                                 const v1::WatchHealthReportRequest* request,
                                 grpc::ServerWriter<v1::HealthReport>* writer) override;

 private:
  const HealthFeed health_;
  const TokenAuth* const auth_;
  const core::EventLog* const events_;
  core::FaultManager* const faults_;
  core::PluginLoader* const plugins_;
  const ServerInfoBuilder server_info_;
  StreamApi streams_;
  SessionApi sessions_;
};

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_SERVICES_CONTROL_SERVICE_H_
