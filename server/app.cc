// App: wiring of server, control plane and health.
#include "server/app.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/logging/log.h"

namespace rtsptest::server {
namespace {

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

// Where a probe can reach a listener: wildcard binds are probed on loopback.
std::string ProbeHost(const std::string& bind_address) {
  if (bind_address == "0.0.0.0") return "127.0.0.1";
  if (bind_address == "::") return "::1";
  return bind_address;
}

void LogHealthEvent(health::LogLevel level, const std::string& message,
                    const health::LogFields& fields) {
  std::vector<LogField> converted;
  converted.reserve(fields.size() + 1);
  converted.emplace_back("source", "health");
  for (const auto& [key, value] : fields) converted.emplace_back(key, value);
  LogLevel ours = level == health::LogLevel::kError     ? LogLevel::kError
                  : level == health::LogLevel::kWarning ? LogLevel::kWarning
                                                        : LogLevel::kInfo;
  Log(ours, message, converted);
}

}  // namespace

App::App(config::v1::ServerConfig config) : server_(std::move(config)) {}

App::~App() { Stop(); }

absl::Status App::Start() {
  if (absl::Status status = server_.Start(); !status.ok()) return status;
  const config::v1::ServerConfig& config = server_.config();

  absl::StatusOr<std::unique_ptr<control::ControlPlaneServer>> control =
      control::ControlPlaneServer::Start(config.control().bind_address(), config.control().port(), {});
  if (!control.ok()) return control.status();
  control_ = *std::move(control);
  Log(LogLevel::kInfo, "control plane serving",
      {{"address", config.control().bind_address()}, {"grpc_port", control_->port()}});

  health::HealthMonitorOptions options;
  std::vector<StreamInfo> streams = server_.streams().List();
  for (const auto& listener : server_.listeners()) {
    health::ListenerSpec spec;
    spec.name = listener->name();
    spec.host = ProbeHost(listener->bind_address());
    spec.bound = listener->is_serving();
    spec.port = spec.bound ? static_cast<int>(listener->bound_port())
                           : static_cast<int>(listener->configured_port());
    for (const StreamInfo& stream : streams) {
      for (const std::string& name : stream.listeners) {
        if (name == listener->name() && spec.describe_path.empty()) {
          spec.describe_path = stream.config.path().substr(1);
        }
      }
    }
    options.listeners.push_back(std::move(spec));
  }
  options.interval = FromProto(config.health().probe_interval());
  options.timeout = FromProto(config.health().probe_timeout());
  options.deep_check = config.health().deep_check();
  if (config.health().min_healthy_listeners() > 0) {
    options.min_healthy_listeners = static_cast<int>(config.health().min_healthy_listeners());
  }
  options.log = &LogHealthEvent;
  publisher_ = std::make_unique<health::GrpcHealthPublisher>(control_->health(), options.listeners);
  absl::StatusOr<std::unique_ptr<health::HealthMonitor>> monitor =
      health::HealthMonitor::Create(options, publisher_.get());
  if (!monitor.ok()) return monitor.status();
  monitor_ = *std::move(monitor);
  if (absl::Status status = monitor_->Start(); !status.ok()) return status;
  Log(LogLevel::kInfo, "server started",
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
  server_.Stop();
  if (control_) control_->Shutdown(absl::Milliseconds(500));
  monitor_.reset();
  publisher_.reset();
  control_.reset();
}

}  // namespace rtsptest::server
