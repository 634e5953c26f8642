// GrpcHealthPublisher: see grpc_health_publisher.h.
#include "healthcheck/monitor/grpc_health_publisher.h"

#include "absl/strings/str_cat.h"

namespace rtsptest::health {

std::string GrpcHealthPublisher::ListenerName(int port) { return absl::StrCat("rtsp:", port); }

GrpcHealthPublisher::GrpcHealthPublisher(grpc::HealthCheckServiceInterface* service,
                                         const std::vector<ListenerSpec>& listeners)
    : service_(service) {
  absl::MutexLock lock(&mu_);
  SetLocked(kOverallName, false);
  SetLocked(kRtspName, false);
  for (const ListenerSpec& l : listeners) SetLocked(ListenerName(l.port), false);
  SetLocked(kControlName, true);
}

void GrpcHealthPublisher::Publish(const HealthSnapshot& snapshot) {
  absl::MutexLock lock(&mu_);
  if (drained_) return;
  if (snapshot.draining) {
    // Shutdown() on the service would do this too, but it re-sends
    // NOT_SERVING for names that already were: Watch would see duplicates.
    drained_ = true;
    for (auto& [name, serving] : current_) SetLocked(name, false);
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
  const bool overall = snapshot.first_round_done && snapshot.serving;
  SetLocked(kRtspName, overall);
  SetLocked(kOverallName, overall);
  SetLocked(kControlName, true);
}

void GrpcHealthPublisher::SetLocked(const std::string& name, bool serving) {
  auto [it, inserted] = current_.emplace(name, serving);
  if (!inserted) {
    if (it->second == serving) return;
    it->second = serving;
  }
  service_->SetServingStatus(name, serving);
}

}  // namespace rtsptest::health
