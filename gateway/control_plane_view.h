// ControlPlaneView: what the gateway knows about the server at one instant,
// and the verdicts (/health, /ready) that follow from it.
//
// StatusFollower publishes a new immutable view on every change; HTTP
// handlers take a shared_ptr to the current one and render from it, so a
// request never waits for gRPC.
#ifndef RTSPTEST_GATEWAY_CONTROL_PLANE_VIEW_H_
#define RTSPTEST_GATEWAY_CONTROL_PLANE_VIEW_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "rtsptest/control/v1/control.pb.h"

namespace rtsptest::gateway {

// The overall ("") status from grpc.health.v1 Watch.
enum class WatchedStatus { kUnknown, kServing, kNotServing, kServiceUnknown };

struct ControlPlaneView {
  // Where the control plane is, e.g. "127.0.0.1:50051".
  std::string grpc_addr;
  // The Watch stream is open and the last GetHealthReport succeeded.
  bool reachable = false;
  // Why not reachable, e.g. "Watch: UNAVAILABLE: Connection refused".
  std::string unreachable_error;
  WatchedStatus overall = WatchedStatus::kUnknown;
  // The last report that arrived, possibly from before a disconnect; check
  // `reachable` before trusting it as current.
  std::optional<control::v1::HealthReport> report;
  // When `report` arrived.
  absl::Time report_time = absl::InfinitePast();
};

struct Verdict {
  bool ok = false;
  // Why not ok ("" when ok), e.g. "draining" or "2 of 4 RTSP ports healthy,
  // 3 required".
  std::string reason;
};

// 200 for /health: reachable and "" is SERVING. When the k-of-n rule holds
// but "" is NOT_SERVING under health.require_live_streams, the reason names
// the streams that are not live.
Verdict EvaluateHealth(const ControlPlaneView& view);
// 200 for /ready: reachable, the first probe round finished, not draining.
// It does not follow the k-of-n rule (that is /health's job).
Verdict EvaluateReadiness(const ControlPlaneView& view);

// "starting", "live", "stalled", "failed" ("unknown" for anything else), as
// the server logs them; used in every gateway output.
const char* StreamStateName(control::v1::StreamState state);

}  // namespace rtsptest::gateway

#endif  // RTSPTEST_GATEWAY_CONTROL_PLANE_VIEW_H_
