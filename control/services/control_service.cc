// ControlServiceImpl implementation.
#include "control/services/control_service.h"

#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "control/services/event_watch.h"
#include "control/services/listener_url.h"
#include "control/services/plugin_list.h"
#include "control/services/status_convert.h"

namespace rtsptest::control {
namespace {

// The host the caller used to reach this port ("" when unknown).
std::string CallerHostOf(const grpc::ServerContext* context) {
  grpc::string_ref authority = context->ExperimentalGetAuthority();
  return CallerHost(absl::string_view(authority.data(), authority.size()));
}

// Moves an OK value into `response`, or converts the error.
template <typename T>
grpc::Status Answer(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

std::vector<const core::RtspListener*> ReadOnly(const std::vector<core::RtspListener*>& listeners) {
  return {listeners.begin(), listeners.end()};
}

}  // namespace

ControlServiceImpl::ControlServiceImpl(ControlServiceDeps deps)
    : health_(std::move(deps.health)),
      auth_(deps.auth),
      events_(deps.events),
      faults_(deps.faults),
      plugins_(deps.plugins),
      server_info_(ReadOnly(deps.listeners), std::move(deps.health_snapshot), deps.started_at),
      streams_(deps.streams, deps.config, ReadOnly(deps.listeners), deps.state),
      sessions_(deps.streams, deps.listeners) {}

grpc::Status ControlServiceImpl::GetHealthReport(grpc::ServerContext*,
                                                 const v1::GetHealthReportRequest*,
                                                 v1::HealthReport* response) {
  *response = health_.report();
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::GetServerInfo(grpc::ServerContext* context,
                                               const v1::GetServerInfoRequest*,
                                               v1::ServerInfo* response) {
  *response = server_info_.Build(CallerHostOf(context));
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::ListPlugins(grpc::ServerContext*, const v1::ListPluginsRequest*,
                                             v1::ListPluginsResponse* response) {
  *response = control::ListPlugins(*plugins_);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::ListStreams(grpc::ServerContext* context,
                                             const v1::ListStreamsRequest* request,
                                             v1::ListStreamsResponse* response) {
  return Answer(streams_.List(*request, CallerHostOf(context)), response);
}

grpc::Status ControlServiceImpl::GetStream(grpc::ServerContext* context,
                                           const v1::GetStreamRequest* request,
                                           v1::StreamStatus* response) {
  return Answer(streams_.Get(request->path(), CallerHostOf(context)), response);
}

grpc::Status ControlServiceImpl::CreateStream(grpc::ServerContext* context,
                                              const v1::CreateStreamRequest* request,
                                              v1::StreamStatus* response) {
  if (grpc::Status denied = auth_->Authorize(*context); !denied.ok()) return denied;
  return Answer(streams_.Create(request->stream(), CallerHostOf(context)), response);
}

grpc::Status ControlServiceImpl::UpdateStream(grpc::ServerContext* context,
                                              const v1::UpdateStreamRequest* request,
                                              v1::StreamStatus* response) {
  if (grpc::Status denied = auth_->Authorize(*context); !denied.ok()) return denied;
  return Answer(streams_.Update(*request, CallerHostOf(context)), response);
}

grpc::Status ControlServiceImpl::DeleteStream(grpc::ServerContext* context,
                                              const v1::DeleteStreamRequest* request,
                                              v1::DeleteStreamResponse*) {
  if (grpc::Status denied = auth_->Authorize(*context); !denied.ok()) return denied;
  return ToGrpcStatus(streams_.Delete(request->path()));
}

grpc::Status ControlServiceImpl::ApplyStreams(grpc::ServerContext* context,
                                              const v1::ApplyStreamsRequest* request,
                                              v1::ApplyStreamsResponse* response) {
  if (grpc::Status denied = auth_->Authorize(*context); !denied.ok()) return denied;
  return Answer(streams_.Apply(*request), response);
}

grpc::Status ControlServiceImpl::ListSessions(grpc::ServerContext*,
                                              const v1::ListSessionsRequest* request,
                                              v1::ListSessionsResponse* response) {
  return Answer(sessions_.List(*request), response);
}

grpc::Status ControlServiceImpl::KickSessions(grpc::ServerContext* context,
                                              const v1::KickSessionsRequest* request,
                                              v1::KickSessionsResponse* response) {
  if (grpc::Status denied = auth_->Authorize(*context); !denied.ok()) return denied;
  return Answer(sessions_.Kick(*request), response);
}

grpc::Status ControlServiceImpl::InjectFault(grpc::ServerContext* context,
                                             const v1::InjectFaultRequest* request,
                                             v1::Fault* response) {
  if (grpc::Status denied = auth_->Authorize(*context); !denied.ok()) return denied;
  return Answer(faults_->Inject(request->fault()), response);
}

grpc::Status ControlServiceImpl::ClearFaults(grpc::ServerContext* context,
                                             const v1::ClearFaultsRequest* request,
                                             v1::ClearFaultsResponse* response) {
  if (grpc::Status denied = auth_->Authorize(*context); !denied.ok()) return denied;
  absl::StatusOr<std::vector<v1::Fault>> cleared = faults_->Clear(*request);
  if (!cleared.ok()) return ToGrpcStatus(cleared.status());
  for (v1::Fault& fault : *cleared) *response->add_cleared() = std::move(fault);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::ListFaults(grpc::ServerContext*,
                                            const v1::ListFaultsRequest* request,
                                            v1::ListFaultsResponse* response) {
  for (v1::Fault& fault : faults_->List(request->stream())) {
    *response->add_faults() = std::move(fault);
  }
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::WatchHealthReport(grpc::ServerContext* context,
                                                   const v1::WatchHealthReportRequest* request,
                                                   grpc::ServerWriter<v1::HealthReport>* writer) {
  return control::WatchHealthReport(health_, *request, context, writer);
}

grpc::Status ControlServiceImpl::WatchEvents(grpc::ServerContext* context,
                                             const v1::WatchEventsRequest* request,
                                             grpc::ServerWriter<v1::Event>* writer) {
  return control::WatchEvents(*events_, *request, context, writer);
}

}  // namespace rtsptest::control
