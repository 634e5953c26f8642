// Verdicts from a ControlPlaneView.
#include "healthcheck/gateway/control_plane_view.h"

#include "absl/strings/str_cat.h"

namespace rtsptest::gateway {
namespace {

std::string UnreachableReason(const ControlPlaneView& view) {
  std::string reason = absl::StrCat("control plane unreachable at ", view.grpc_addr);
  if (!view.unreachable_error.empty()) absl::StrAppend(&reason, ": ", view.unreachable_error);
  // A drain ends with the gRPC port closing: say so, it is the expected end.
  if (view.report.has_value() && view.report->draining()) absl::StrAppend(&reason, " (server was draining)");
  return reason;
}

}  // namespace

Verdict EvaluateHealth(const ControlPlaneView& view) {
  if (!view.reachable) return {false, UnreachableReason(view)};
  const control::v1::HealthReport* report = view.report.has_value() ? &*view.report : nullptr;
  // The report can trail the Watch by one refresh; draining wins either way.
  if (report != nullptr && report->draining()) return {false, "draining"};
  switch (view.overall) {
    case WatchedStatus::kServing:
      return {true, ""};
    case WatchedStatus::kServiceUnknown:
      return {false, "the server does not publish the overall (\"\") health status"};
    case WatchedStatus::kUnknown:
      return {false, "waiting for the first health status"};
    case WatchedStatus::kNotServing:
      break;
  }
  if (report == nullptr) return {false, "not serving"};
  if (!report->first_round_done()) return {false, "starting: first probe round not finished"};
  return {false, absl::StrCat(report->healthy_listeners(), " of ", report->total_listeners(),
                              " RTSP ports healthy, ", report->min_healthy_listeners(), " required")};
}

Verdict EvaluateReadiness(const ControlPlaneView& view) {
  if (!view.reachable) return {false, UnreachableReason(view)};
  if (!view.report.has_value()) return {false, "waiting for the first health report"};
  if (view.report->draining()) return {false, "draining"};
  if (!view.report->first_round_done()) return {false, "starting: first probe round not finished"};
  return {true, ""};
}

}  // namespace rtsptest::gateway
