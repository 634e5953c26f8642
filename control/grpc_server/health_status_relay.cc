// HealthStatusRelay implementation.
#include "control/grpc_server/health_status_relay.h"

namespace rtsptest::control {

void HealthStatusRelay::Attach(grpc::HealthCheckServiceInterface* target) {
  absl::MutexLock lock(&mutex_);
  target_ = target;
  if (target_ == nullptr) return;
  for (const auto& [name, serving] : statuses_) target_->SetServingStatus(name, serving);
  if (shut_down_) target_->Shutdown();
}

void HealthStatusRelay::SetServingStatus(const std::string& service_name, bool serving) {
  absl::MutexLock lock(&mutex_);
  if (shut_down_) return;
  statuses_[service_name] = serving;
  if (target_ != nullptr) target_->SetServingStatus(service_name, serving);
}

void HealthStatusRelay::SetServingStatus(bool serving) {
  absl::MutexLock lock(&mutex_);
  if (shut_down_) return;
  for (auto& [name, status] : statuses_) status = serving;
  if (target_ != nullptr) target_->SetServingStatus(serving);
}

void HealthStatusRelay::Shutdown() {
  absl::MutexLock lock(&mutex_);
  if (shut_down_) return;
  shut_down_ = true;
  for (auto& [name, status] : statuses_) status = false;
  if (target_ != nullptr) target_->Shutdown();
}

}  // namespace rtsptest::control
