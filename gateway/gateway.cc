// Gateway: wiring of follower, router and HTTP server.
#include "gateway/gateway.h"

#include "common/log/log.h"

namespace rtsptest::gateway {

Gateway::Gateway(const GatewayOptions& options)
    : follower_(std::make_unique<StatusFollower>(options.follower)) {
  context_.public_host = options.public_host;
  context_.started = absl::Now();
}

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(const GatewayOptions& options) {
  std::unique_ptr<Gateway> gateway(new Gateway(options));
  StatusFollower* follower = gateway->follower_.get();
  const RouterContext* context = &gateway->context_;
  absl::StatusOr<std::unique_ptr<HttpServer>> http =
      HttpServer::Start(options.http, [follower, context](const HttpRequest& request) {
        // A shared_ptr copy under a mutex: the only shared state a request
        // touches. Rendering happens outside any lock.
        std::shared_ptr<const ControlPlaneView> view = follower->view();
        return Route(request, *view, *context, absl::Now());
      });
  if (!http.ok()) return http.status();
  gateway->http_ = *std::move(http);
  follower->Start();
  common::Log(common::LogLevel::kInfo, "http gateway serving",
              {{"address", options.http.bind_address},
               {"http_port", gateway->http_->port()},
               {"grpc_addr", options.follower.grpc_addr}});
  return gateway;
}

Gateway::~Gateway() { Stop(); }

void Gateway::Stop() {
  if (http_) http_->Stop();
  if (follower_) follower_->Stop();
}

}  // namespace rtsptest::gateway
