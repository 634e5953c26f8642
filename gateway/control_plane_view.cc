// Verdicts from a ControlPlaneView.
#include "gateway/control_plane_view.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rtsptest::gateway {
namespace {

std::string UnreachableReason(const ControlPlaneView& view) {
  std::string reason = absl::StrCat("control plane unreachable at ", view.grpc_addr);
  if (!view.unreachable_error.empty()) absl::StrAppend(&reason, ": ", view.unreachable_error);
  // A drain ends with the gRPC port closing: say so, it is the expected end.
  if (view.report.has_value() && view.report->draining())
    absl::StrAppend(&reason, " (server was draining)");
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
  if (report->require_live_streams() &&
      report->healthy_listeners() >= report->min_healthy_listeners()) {
    std::vector<std::string> streams;
    for (const control::v1::StreamReport& stream : report->streams()) {
      if (stream.state() == control::v1::STREAM_STATE_LIVE) continue;
      std::string line =
          absl::StrCat("stream ", stream.path(), " ", StreamStateName(stream.state()));
      if (!stream.state_reason().empty()) absl::StrAppend(&line, ": ", stream.state_reason());
      streams.push_back(std::move(line));
    }
    // The report can trail the Watch by one refresh: then no stream is
    // named yet, and the generic reason below stands.
    if (!streams.empty()) return {false, absl::StrJoin(streams, "; ")};
  }
  return {false,
          absl::StrCat(report->healthy_listeners(), " of ", report->total_listeners(),
                       " RTSP ports healthy, ", report->min_healthy_listeners(), " required")};
}

const char* StreamStateName(control::v1::StreamState state) {
  switch (state) {
    case control::v1::STREAM_STATE_STARTING:
      return "starting";
    case control::v1::STREAM_STATE_LIVE:
      return "live";
    case control::v1::STREAM_STATE_STALLED:
      return "stalled";
    case control::v1::STREAM_STATE_FAILED:
      return "failed";
    case control::v1::STREAM_STATE_STOPPING:
      return "stopping";
    default:
      break;
  }
  return "unknown";
}

Verdict EvaluateReadiness(const ControlPlaneView& view) {
  if (!view.reachable) return {false, UnreachableReason(view)};
  if (!view.report.has_value()) return {false, "waiting for the first health report"};
  if (view.report->draining()) return {false, "draining"};
  if (!view.report->first_round_done()) return {false, "starting: first probe round not finished"};
  return {true, ""};
}

}  // namespace rtsptest::gateway
