// App: wiring of server, control plane and health.
#include "app/app.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/net/host_port.h"
#include "common/time/proto_time.h"
#include "common/version/version.h"
#include "control/services/health_report.h"
#include "control/state/state_restorer.h"
#include "core/events/event_sources.h"

namespace rtsptest::app {

App::App(config::v1::ServerConfig config) : server_(std::move(config)) {}

App::~App() { Stop(); }

absl::Status App::Start() {
  if (absl::Status status = server_.Start(); !status.ok()) return status;
  // What the control API changed before a restart, on top of the config's
  // streams (state_file; logged, never fatal, unless the file is unreadable).
  absl::StatusOr<std::unique_ptr<control::StateStore>> state =
      control::StateRestorer(&server_.streams(), &server_.config()).Restore();
  if (!state.ok()) return state.status();
  state_ = *std::move(state);
  const config::v1::ServerConfig& config = server_.config();
  std::vector<core::RtspListener*> listeners;
  for (const auto& listener : server_.listeners()) listeners.push_back(listener.get());
  fault_handlers_ = std::make_unique<core::ServerFaultHandlers>(&server_.streams(), listeners);
  faults_ = std::make_unique<core::FaultManager>(&events_);
  fault_handlers_->RegisterOn(faults_.get());
  server_.streams().SetObserver([publish = core::PublishStreamEvents(&events_),
                                 faults = faults_.get()](const core::StreamEvent& event) {
    publish(event);
    // A replaced stream has new media: the old one's faults are gone.
    if (event.type == core::StreamEvent::Type::kRemoved) {
      faults->OnStreamGone(event.path, "stream removed");
    } else if (event.reason == "replaced") {
      faults->OnStreamGone(event.path, "stream replaced");
    }
  });
  for (const auto& listener : server_.listeners()) {
    listener->SetSessionObserver(core::PublishSessionEvents(&events_, listener->name()));
  }
  control::ControlServiceDeps deps;
  deps.health.report = [this] { return BuildHealthReport(); };
  // publisher_ is set later in Start(); until then nothing changes.
  deps.health.await_change = [this](uint64_t seen, absl::Duration timeout) -> uint64_t {
    return publisher_ ? publisher_->AwaitChange(seen, timeout) : seen;
  };
  deps.streams = &server_.streams();
  deps.plugins = &server_.plugins();
  deps.config = &server_.config();
  deps.listeners = listeners;
  // monitor_ is set later in Start(); the snapshot reads it when asked.
  deps.health_snapshot = [this] {
    return monitor_ ? monitor_->snapshot() : health::HealthSnapshot{};
  };
  deps.started_at = started_at_;
  absl::StatusOr<control::ControlPlaneSecurity> security =
      control::SecurityFromConfig(config.control());
  if (!security.ok()) return security.status();
  token_auth_ = std::make_unique<control::TokenAuth>(security->token);
  if (token_auth_->open()) {
    common::Log(common::LogLevel::kWarning,
                "control API open: no token set; anyone who reaches the gRPC port may create, "
                "change and delete streams (set control.token, control.token_file, "
                "RTSP_TEST_CONTROL_TOKEN or --control_token_file)");
  }
  deps.auth = token_auth_.get();
  deps.events = &events_;
  deps.faults = faults_.get();
  deps.state = state_.get();
  control_service_ = std::make_unique<control::ControlServiceImpl>(std::move(deps));

  absl::StatusOr<std::unique_ptr<control::ControlPlaneServer>> control =
      control::ControlPlaneServer::Start(config.control().bind_address(), config.control().port(),
                                         {control_service_.get()}, *security);
  if (!control.ok()) return control.status();
  control_ = *std::move(control);
  common::Log(common::LogLevel::kInfo, "control plane serving",
              {{"address", config.control().bind_address()}, {"grpc_port", control_->port()}});

  health::HealthMonitorOptions options;
  std::vector<core::Stream> streams = server_.streams().List();
  for (const auto& listener : server_.listeners()) {
    health::ListenerSpec spec;
    spec.name = listener->name();
    spec.host = common::LoopbackFor(listener->bind_address());
    spec.bound = listener->is_serving();
    spec.port = spec.bound ? static_cast<int>(listener->bound_port())
                           : static_cast<int>(listener->configured_port());
    for (const core::Stream& stream : streams) {
      for (const std::string& name : stream.status.listeners) {
        // A protected stream answers 401 to the probe's DESCRIBE.
        if (name == listener->name() && spec.describe_path.empty() && !stream.spec.has_auth()) {
          spec.describe_path = stream.path().substr(1);
        }
      }
    }
    options.listeners.push_back(std::move(spec));
  }
  options.interval = common::FromProtoDuration(config.health().probe_interval());
  options.timeout = common::FromProtoDuration(config.health().probe_timeout());
  options.deep_check = config.health().deep_check();
  if (config.health().min_healthy_listeners() > 0) {
    options.min_healthy_listeners = static_cast<int>(config.health().min_healthy_listeners());
  }
  std::vector<std::string> stream_paths;
  for (const core::Stream& stream : streams) stream_paths.push_back(stream.path());
  publisher_ = std::make_unique<health::GrpcHealthPublisher>(
      control_->health(), options.listeners, stream_paths, config.health().require_live_streams());
  publisher_->SetChangeObserver(core::PublishHealthEvents(&events_));
  // "stream:<path>" names: on the checker's own timer, since probe rounds
  // may be seconds apart.
  liveness_ = std::make_unique<core::StreamLivenessChecker>(
      &server_.streams(),
      core::StreamLivenessChecker::IntervalFor(server_.streams().stall_timeout()),
      [publisher = publisher_.get()](const std::vector<core::StreamLiveness>& states) {
        std::map<std::string, bool> live;
        for (const core::StreamLiveness& stream : states)
          live[stream.path] = stream.state == core::StreamState::kLive;
        publisher->PublishStreams(live);
      });
  liveness_->Start();
  absl::StatusOr<std::unique_ptr<health::HealthMonitor>> monitor =
      health::HealthMonitor::Create(options, publisher_.get());
  if (!monitor.ok()) return monitor.status();
  monitor_ = *std::move(monitor);
  if (absl::Status status = monitor_->Start(); !status.ok()) return status;
  common::Log(common::LogLevel::kInfo, "server started",
              {{"grpc_port", control_->port()}, {"streams", static_cast<int>(streams.size())}});
  return absl::OkStatus();
}

void App::BeginDrain() {
  if (monitor_) monitor_->SetDraining();
  for (const auto& listener : server_.listeners()) listener->CloseListeningSocket();
}

int App::OpenRtspConnections() const {
  int total = 0;
  for (const auto& listener : server_.listeners()) total += listener->connected_clients();
  return total;
}

void App::Stop() {
  // Health first, so that nothing reports SERVING while parts go away.
  if (monitor_) {
    monitor_->SetDraining();
    monitor_->Stop();
  }
  if (liveness_) liveness_->Stop();
  // RPCs in flight read the server, so the gRPC port goes before it.
  // Watch streams never end by themselves, so any grace would always be spent
  // in full; health has said NOT_SERVING for the whole drain already.
  if (control_) control_->Shutdown(absl::Milliseconds(50));
  // No fault may expire (and act on a listener) while the server stops.
  if (faults_) faults_->Shutdown();
  server_.Stop();
  monitor_.reset();
  liveness_.reset();
  publisher_.reset();
  control_.reset();
  control_service_.reset();
  faults_.reset();
}

std::string App::local_grpc_address() const {
  return common::JoinHostPort(common::LoopbackFor(server_.config().control().bind_address()),
                              grpc_port());
}

control::v1::HealthReport App::BuildHealthReport() const {
  return control::HealthReporter(&server_, monitor_.get(), publisher_.get(), started_at_).Build();
}

}  // namespace rtsptest::app
