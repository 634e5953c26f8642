// GrpcHealthPublisher: see grpc_health_publisher.h.
#include "health/publisher/grpc_health_publisher.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace rtsptest::health {

namespace {
constexpr absl::string_view kStreamPrefix = "stream:";
}  // namespace

std::string GrpcHealthPublisher::ListenerName(int port) { return absl::StrCat("rtsp:", port); }

std::string GrpcHealthPublisher::StreamName(absl::string_view path) {
  return absl::StrCat(kStreamPrefix, path);
}

GrpcHealthPublisher::GrpcHealthPublisher(grpc::HealthCheckServiceInterface* service,
                                         const std::vector<ListenerSpec>& listeners,
                                         const std::vector<std::string>& stream_paths,
                                         bool require_live_streams)
    : service_(service), require_live_streams_(require_live_streams) {
  absl::MutexLock lock(&mu_);
  SetLocked(kOverallName, false);
  SetLocked(kRtspName, false);
  for (const ListenerSpec& l : listeners) SetLocked(ListenerName(l.port), false);
  for (const std::string& path : stream_paths) SetLocked(StreamName(path), false);
  // Not yet evaluated: not live, unless there is nothing to wait for.
  streams_live_ = stream_paths.empty();
  SetLocked(kControlName, true);
}

void GrpcHealthPublisher::Publish(const HealthSnapshot& snapshot) {
  absl::MutexLock lock(&mu_);
  if (drained_) return;
  if (snapshot.draining) {
    // Shutdown() on the service would do this too, but it re-sends
    // NOT_SERVING for names that already were: Watch would see duplicates.
    drained_ = true;
    // "" last: a client that sees it NOT_SERVING finds every other name
    // NOT_SERVING already, even if this thread is preempted in between.
    for (auto& [name, serving] : current_) {
      if (name != kOverallName) SetLocked(name, false);
    }
    SetLocked(kOverallName, false);
    return;
  }
  // Two listeners may share a port (e.g. 0.0.0.0 and ::): the port name is
  // SERVING only when all of them pass.
  std::map<std::string, bool> ports;
  for (const ListenerHealth& h : snapshot.listeners) {
    auto [it, inserted] = ports.emplace(ListenerName(h.listener.port), h.serving);
    if (!inserted) it->second = it->second && h.serving;
  }
  for (const auto& [name, serving] : ports) SetLocked(name, serving);
  rule_serving_ = snapshot.first_round_done && snapshot.serving;
  SetLocked(kRtspName, rule_serving_);
  SetOverallLocked();
  SetLocked(kControlName, true);
  ++generation_;
}

void GrpcHealthPublisher::PublishStreams(const std::map<std::string, bool>& live) {
  absl::MutexLock lock(&mu_);
  if (drained_) return;
  bool all_live = true;
  for (const auto& [path, serving] : live) {
    SetLocked(StreamName(path), serving);
    all_live = all_live && serving;
  }
  // A removed stream's name stays known (gRPC cannot forget a name), and
  // says NOT_SERVING.
  for (auto& [name, serving] : current_) {
    if (absl::StartsWith(name, kStreamPrefix) &&
        live.count(name.substr(kStreamPrefix.size())) == 0) {
      SetLocked(name, false);
    }
  }
  streams_live_ = all_live;
  SetOverallLocked();
}

void GrpcHealthPublisher::SetChangeObserver(ChangeObserver observer) {
  absl::MutexLock lock(&mu_);
  observer_ = std::move(observer);
}

uint64_t GrpcHealthPublisher::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

uint64_t GrpcHealthPublisher::AwaitChange(uint64_t seen, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto changed = [this, seen]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return generation_ != seen; };
  mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
  return generation_;
}

std::map<std::string, bool> GrpcHealthPublisher::Statuses() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

void GrpcHealthPublisher::SetOverallLocked() {
  SetLocked(kOverallName, rule_serving_ && (!require_live_streams_ || streams_live_));
}

void GrpcHealthPublisher::SetLocked(const std::string& name, bool serving) {
  auto [it, inserted] = current_.emplace(name, serving);
  std::optional<bool> was;
  if (!inserted) {
    if (it->second == serving) return;
    was = it->second;
    it->second = serving;
  }
  ++generation_;
  if (observer_) observer_(name, was, serving);
  service_->SetServingStatus(name, serving);
}

}  // namespace rtsptest::health
