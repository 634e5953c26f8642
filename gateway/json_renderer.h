// JSON bodies of /health, /ready, /live and /rtsp-urls.
//
// Pure functions: a view (and the verdict already drawn from it) in, a body
// out. Every string from the server or the client goes through the JSON
// string encoder.
#ifndef RTSPTEST_GATEWAY_JSON_RENDERER_H_
#define RTSPTEST_GATEWAY_JSON_RENDERER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/control_plane_view.h"

namespace rtsptest::gateway {

// {"status":"healthy"|"unhealthy","open_ports":N,"total_ports":M,
//  "timestamp":<unix seconds, 3 decimals>[,"reason":...]}
// With `detailed`: also "version", "services" (name -> "healthy" |
// "unhealthy"), "ports" ([{port,name,state,last_error,latency_ms,
// consecutive_failures}]), "rule" ({"k","n"}), "checked_at" (RFC 3339 or
// null), "require_live_streams" (bool), "stall_timeout_seconds" and "streams"
// ([{path,state,reason,last_frame_age_seconds (null before the first
// frame),fps,bitrate_bps,frames_produced}], state "unknown" while
// unreachable). open_ports counts listeners that passed their last probe;
// while the control plane is unreachable it is 0 and total_ports is the last
// known count.
std::string RenderHealthJson(const ControlPlaneView& view, const Verdict& verdict, absl::Time now,
                             bool detailed);

// {"status":"ready"|"not ready","timestamp":...[,"reason":...]}
std::string RenderReadyJson(const Verdict& verdict, absl::Time now);

// {"status":"alive","uptime_seconds":...,"timestamp":...}
std::string RenderLiveJson(absl::Duration gateway_uptime, absl::Time now);

// {"host":"...","streams":[{"path","description","plugin","readers",
//  "urls":["rtsp://host:port/path",...]}]}
std::string RenderRtspUrlsJson(const control::v1::HealthReport& report, absl::string_view host);

// {"status":"unavailable","reason":...,"timestamp":...} for endpoints that
// need a current report.
std::string RenderUnavailableJson(absl::string_view reason, absl::Time now);

// Unix seconds with millisecond fraction, e.g. "1693161234.567".
std::string UnixSeconds(absl::Time t);
// RFC 3339 in UTC with milliseconds, e.g. "2025-01-20T10:30:00.123Z".
std::string Rfc3339(absl::Time t);

}  // namespace rtsptest::gateway

#endif  // RTSPTEST_GATEWAY_JSON_RENDERER_H_
