// Gateway: the HTTP health gateway as a library — a StatusFollower on the
// server's gRPC port plus an HttpServer whose handler routes against the
// follower's current view.
//
// The health_gateway binary and rtsp_test_server --http_port both run this,
// so a sidecar and an embedded gateway behave the same.
#ifndef RTSPTEST_GATEWAY_GATEWAY_H_
#define RTSPTEST_GATEWAY_GATEWAY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/http_server.h"
#include "gateway/router.h"
#include "gateway/status_follower.h"

namespace rtsptest::gateway {

struct GatewayOptions {
  HttpServerOptions http;
  StatusFollowerOptions follower;
  // Host for rtsp:// URLs; empty: the request's Host header.
  std::string public_host;
};

class Gateway {
 public:
  // Starts following the control plane and serving HTTP. The HTTP port
  // answers at once (503 until the control plane is reached).
  // InvalidArgument / Unavailable from HttpServer::Start.
  static absl::StatusOr<std::unique_ptr<Gateway>> Start(const GatewayOptions& options);
  ~Gateway();

  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  int http_port() const { return http_->port(); }
  // Stops HTTP first (no answer from a half-stopped gateway), then the
  // follower. Idempotent.
  void Stop();

 private:
  explicit Gateway(const GatewayOptions& options);

  RouterContext context_;
  std::unique_ptr<StatusFollower> follower_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace rtsptest::gateway

#endif  // RTSPTEST_GATEWAY_GATEWAY_H_
