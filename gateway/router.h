// Router: maps one HTTP request and the current ControlPlaneView to a
// response. Pure (the clock is passed in), so that every endpoint's status
// code and body can be unit-tested without sockets or gRPC.
//
//   GET|HEAD /health[?detailed=true]   200 healthy / 503 unhealthy (JSON)
//   GET|HEAD /ready                    200 / 503 (JSON)
//   GET|HEAD /live                     200 always (JSON)
//   GET|HEAD /rtsp-urls                200 (JSON) / 503 while unreachable
//   GET|HEAD /                         200 HTML status page
//   GET|HEAD /metrics                  200 Prometheus text
//   other methods on those paths       405 with "Allow: GET, HEAD"
//   other paths                        404
#ifndef RTSPTEST_GATEWAY_ROUTER_H_
#define RTSPTEST_GATEWAY_ROUTER_H_

#include <string>

#include "absl/time/time.h"
#include "gateway/control_plane_view.h"
#include "gateway/http_server.h"

namespace rtsptest::gateway {

struct RouterContext {
  // Host for rtsp:// URLs; empty: from the request's Host header.
  std::string public_host;
  // When the gateway started (for /live).
  absl::Time started = absl::Now();
};

HttpResponse Route(const HttpRequest& request, const ControlPlaneView& view,
                   const RouterContext& context, absl::Time now);

}  // namespace rtsptest::gateway

#endif  // RTSPTEST_GATEWAY_ROUTER_H_
