// RtspFaults: the fault table. See rtsp_faults.h.
#include "core/listener/rtsp_faults.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace rtsptest::core {
namespace {

constexpr GstRTSPMethod kFaultableMethods[] = {GST_RTSP_DESCRIBE, GST_RTSP_SETUP, GST_RTSP_PLAY};

bool Applies(const RtspFault& fault, absl::string_view path, GstRTSPMethod method) {
  if (fault.path != path) return false;
  return fault.methods.empty() || fault.methods.count(method) > 0;
}

}  // namespace

absl::Status RtspFaults::Set(const std::string& fault_id, RtspFault fault) {
  const std::string where = absl::StrCat("rtsp fault ", fault_id, " on ", fault.path);
  if (fault.path.empty() || fault.path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat(where, ": path must start with '/'"));
  }
  for (GstRTSPMethod method : fault.methods) {
    bool known = false;
    for (GstRTSPMethod faultable : kFaultableMethods) known = known || method == faultable;
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": method ",
                                                     gst_rtsp_method_as_text(method),
                                                     ": must be DESCRIBE, SETUP or PLAY"));
    }
  }
  if (fault.kind == RtspFault::Kind::kError &&
      (fault.status_code < 300 || fault.status_code > 599)) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": status_code=", fault.status_code, ": must be 300..599"));
  }
  if (fault.kind == RtspFault::Kind::kDelay && fault.delay <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": delay=", absl::FormatDuration(fault.delay), ": must be > 0"));
  }
  absl::MutexLock lock(&mutex_);
  faults_[fault_id] = std::move(fault);
  empty_.store(false);
  return absl::OkStatus();
}

void RtspFaults::Clear(const std::string& fault_id) {
  absl::MutexLock lock(&mutex_);
  faults_.erase(fault_id);
  empty_.store(faults_.empty());
}

bool RtspFaults::HasDelay() const {
  absl::MutexLock lock(&mutex_);
  for (const auto& [id, fault] : faults_) {
    if (fault.kind == RtspFault::Kind::kDelay) return true;
  }
  return false;
}

RtspFaultAction RtspFaults::Lookup(absl::string_view path, GstRTSPMethod method) const {
  RtspFaultAction action;
  if (empty_.load()) return action;
  absl::MutexLock lock(&mutex_);
  for (const auto& [id, fault] : faults_) {
    if (!Applies(fault, path, method)) continue;
    if (fault.kind == RtspFault::Kind::kError) {
      // The first error (by fault id) wins; a delay does not matter then.
      return {fault.status_code, absl::ZeroDuration()};
    }
    action.delay = std::max(action.delay, fault.delay);
  }
  return action;
}

}  // namespace rtsptest::core
