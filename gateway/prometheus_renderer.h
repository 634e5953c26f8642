// /metrics: the server's health and load in Prometheus text exposition
// format 0.0.4 (Content-Type "text/plain; version=0.0.4").
//
// Families (all prefixed rtsp_test_server_):
//   gateway_control_plane_up          gauge    1 while the gateway follows the server
//   gateway_report_age_seconds        gauge    age of the report the figures come from
//   health_status{service}            gauge    1 SERVING / 0 not, per grpc.health.v1 name
//   draining                          gauge    1 after SIGTERM
//   listeners, healthy_listeners, min_healthy_listeners   gauges (the k-of-n rule)
//   listener_healthy{listener,port}   gauge    last probe passed
//   probe_latency_seconds{listener,port}  gauge  duration of the last probe
//   probe_consecutive_failures{listener,port}  gauge  failed probes in a row
//   probe_rounds_total                counter
//   listener_open_connections{listener,port}  gauge
//   listener_max_connections{listener,port}   gauge    the connection limit (0: none)
//   listener_connections_ended_total{listener,port,reason}  counter  refused or
//       closed by the listener: connection_limit, request_limits, stalled_reader, idle
//   listener_accept_failures_total{listener,port}  counter  e.g. out of descriptors
//   stream_readers{path}              gauge
//   stream_bytes_produced_total{path} counter  RTP bytes the stream's payloaders made
//   rtsp_connections_opened_total, rtsp_connections_closed_total   counters
//   uptime_seconds                    gauge    the server's
//   build_info{version}               gauge    always 1 (the server's version)
// While the control plane is unreachable only the gateway_* families and
// health_status{service=""} 0 are written: stale figures are worse than
// none for alerting.
#ifndef RTSPTEST_GATEWAY_PROMETHEUS_RENDERER_H_
#define RTSPTEST_GATEWAY_PROMETHEUS_RENDERER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/control_plane_view.h"

namespace rtsptest::gateway {

inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// Escapes a label value: backslash, double quote and newline.
std::string PrometheusLabelValue(absl::string_view value);

std::string RenderMetrics(const ControlPlaneView& view, const Verdict& health, absl::Time now);

}  // namespace rtsptest::gateway

#endif  // RTSPTEST_GATEWAY_PROMETHEUS_RENDERER_H_
