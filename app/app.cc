// App: wiring of server, control plane and health.
#include "app/app.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/time/proto_time.h"
#include "common/version/version.h"

namespace rtsptest::server {
namespace {

// Where this process reaches one of its own sockets: wildcard binds are
// reached on loopback.
std::string LocalHost(const std::string& bind_address) {
  if (bind_address.empty() || bind_address == "0.0.0.0") return "127.0.0.1";
  if (bind_address == "::") return "::1";
  return bind_address;
}

control::v1::StreamState ToProto(StreamState state) {
  switch (state) {
    case StreamState::kStarting: return control::v1::STREAM_STATE_STARTING;
    case StreamState::kLive: return control::v1::STREAM_STATE_LIVE;
    case StreamState::kStalled: return control::v1::STREAM_STATE_STALLED;
    case StreamState::kFailed: return control::v1::STREAM_STATE_FAILED;
  }
  return control::v1::STREAM_STATE_UNSPECIFIED;
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
  control_service_ = std::make_unique<control::ControlServiceImpl>([this] { return BuildHealthReport(); });

  absl::StatusOr<std::unique_ptr<control::ControlPlaneServer>> control =
      control::ControlPlaneServer::Start(config.control().bind_address(), config.control().port(),
                                         {control_service_.get()});
  if (!control.ok()) return control.status();
  control_ = *std::move(control);
  Log(LogLevel::kInfo, "control plane serving",
      {{"address", config.control().bind_address()}, {"grpc_port", control_->port()}});

  health::HealthMonitorOptions options;
  std::vector<StreamInfo> streams = server_.streams().List();
  for (const auto& listener : server_.listeners()) {
    health::ListenerSpec spec;
    spec.name = listener->name();
    spec.host = LocalHost(listener->bind_address());
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
  options.interval = FromProtoDuration(config.health().probe_interval());
  options.timeout = FromProtoDuration(config.health().probe_timeout());
  options.deep_check = config.health().deep_check();
  if (config.health().min_healthy_listeners() > 0) {
    options.min_healthy_listeners = static_cast<int>(config.health().min_healthy_listeners());
  }
  options.log = &LogHealthEvent;
  std::vector<std::string> stream_paths;
  for (const StreamInfo& stream : streams) stream_paths.push_back(stream.config.path());
  publisher_ = std::make_unique<health::GrpcHealthPublisher>(
      control_->health(), options.listeners, stream_paths, config.health().require_live_streams());
  // "stream:<path>" names: on the checker's own timer, since probe rounds
  // may be seconds apart.
  liveness_ = std::make_unique<StreamLivenessChecker>(
      &server_.streams(), StreamLivenessChecker::IntervalFor(server_.streams().stall_timeout()),
      [publisher = publisher_.get()](const std::vector<StreamLiveness>& states) {
        std::map<std::string, bool> live;
        for (const StreamLiveness& stream : states) live[stream.path] = stream.state == StreamState::kLive;
        publisher->PublishStreams(live);
      });
  liveness_->Start();
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
  if (liveness_) liveness_->Stop();
  // RPCs in flight read the server, so the gRPC port goes before it.
  // Watch streams never end by themselves, so any grace would always be spent
  // in full; health has said NOT_SERVING for the whole drain already.
  if (control_) control_->Shutdown(absl::Milliseconds(50));
  server_.Stop();
  monitor_.reset();
  liveness_.reset();
  publisher_.reset();
  control_.reset();
  control_service_.reset();
}

std::string App::local_grpc_address() const {
  std::string host = LocalHost(server_.config().control().bind_address());
  if (host.find(':') != std::string::npos) host = absl::StrCat("[", host, "]");
  return absl::StrCat(host, ":", grpc_port());
}

control::v1::HealthReport App::BuildHealthReport() const {
  control::v1::HealthReport report;
  report.set_version(kVersion);
  health::HealthSnapshot snapshot = monitor_ ? monitor_->snapshot() : health::HealthSnapshot{};
  report.set_serving(snapshot.serving);
  report.set_first_round_done(snapshot.first_round_done);
  report.set_draining(snapshot.draining);
  report.set_min_healthy_listeners(static_cast<uint32_t>(snapshot.min_healthy_listeners));
  report.set_total_listeners(static_cast<uint32_t>(server_.listeners().size()));
  report.set_healthy_listeners(static_cast<uint32_t>(snapshot.healthy_listeners));
  *report.mutable_checked_at() = ToProtoTimestamp(snapshot.time);
  *report.mutable_uptime() = ToProtoDuration(absl::Now() - started_at_);
  report.set_probe_rounds(snapshot.round);
  report.set_require_live_streams(server_.config().health().require_live_streams());
  *report.mutable_stall_timeout() = ToProtoDuration(server_.streams().stall_timeout());
  auto& services = *report.mutable_services();
  services[""] = snapshot.serving;
  services["rtsp"] = snapshot.serving;
  services["control"] = !snapshot.draining;
  uint64_t opened = 0, open_now = 0;
  for (const auto& listener : server_.listeners()) {
    control::v1::ListenerReport* out = report.add_listeners();
    out->set_name(listener->name());
    out->set_bind_address(listener->bind_address());
    out->set_bound(listener->is_serving());
    out->set_port(listener->bound_port() != 0 ? listener->bound_port() : listener->configured_port());
    out->set_open_connections(static_cast<uint32_t>(listener->connected_clients()));
    out->set_connections_accepted(static_cast<uint64_t>(listener->accepted_clients()));
    opened += static_cast<uint64_t>(listener->accepted_clients());
    open_now += static_cast<uint64_t>(listener->connected_clients());
    for (const health::ListenerHealth& probed : snapshot.listeners) {
      if (probed.listener.name != listener->name()) continue;
      out->set_port(static_cast<uint32_t>(probed.listener.port));
      out->set_bound(probed.listener.bound);
      out->set_healthy(probed.serving);
      out->set_last_error(probed.last_error);
      *out->mutable_last_probe_latency() = ToProtoDuration(probed.last_latency);
      out->set_consecutive_failures(static_cast<uint32_t>(probed.consecutive_failures));
      services[health::GrpcHealthPublisher::ListenerName(probed.listener.port)] =
          probed.serving && !snapshot.draining;
    }
  }
  // What Check answers now: "" may also follow the streams
  // (require_live_streams), and "stream:<path>" names are only there.
  if (publisher_) {
    for (const auto& [name, serving] : publisher_->Statuses()) services[name] = serving;
    report.set_serving(services[""]);
  }
  report.set_rtsp_connections_opened(opened);
  report.set_rtsp_connections_closed(opened - open_now);
  for (const StreamInfo& stream : server_.streams().List()) {
    control::v1::StreamReport* out = report.add_streams();
    out->set_path(stream.config.path());
    out->set_plugin(stream.config.plugin());
    out->set_description(stream.config.description());
    for (const std::string& name : stream.listeners) out->add_listeners(name);
    out->set_readers(static_cast<uint32_t>(stream.readers));
    out->set_bytes_produced(stream.bytes_produced);
    for (const auto& [key, value] : stream.parameters) (*out->mutable_parameters())[key] = value;
    const StreamHealthReport& health = stream.health;
    out->set_state(ToProto(health.state));
    out->set_state_reason(health.reason);
    if (health.last_frame_age.has_value()) *out->mutable_last_frame_age() = ToProtoDuration(*health.last_frame_age);
    out->set_fps(health.fps);
    out->set_bits_per_second(health.bits_per_second);
    out->set_frames_produced(health.frames_produced);
    for (const TrackHealth& track : health.tracks) {
      control::v1::TrackReport* t = out->add_tracks();
      t->set_media(TrackMediaName(track.media));
      t->set_frames_produced(track.frames_produced);
      t->set_fps(track.fps);
      t->set_bits_per_second(track.bits_per_second);
      if (track.last_frame_age.has_value()) *t->mutable_last_frame_age() = ToProtoDuration(*track.last_frame_age);
    }
  }
  return report;
}

}  // namespace rtsptest::server
