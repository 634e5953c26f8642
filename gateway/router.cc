// Router: endpoints, methods and status codes.
#include "gateway/router.h"

#include "absl/strings/ascii.h"
#include "gateway/html_renderer.h"
#include "gateway/json_renderer.h"
#include "gateway/prometheus_renderer.h"
#include "gateway/stream_urls.h"

namespace rtsptest::gateway {
namespace {

constexpr char kJson[] = "application/json";

enum class Endpoint { kNone, kHealth, kReady, kLive, kRtspUrls, kPage, kMetrics };

Endpoint Find(const std::string& path) {
  if (path == "/health") return Endpoint::kHealth;
  if (path == "/ready") return Endpoint::kReady;
  if (path == "/live") return Endpoint::kLive;
  if (path == "/rtsp-urls") return Endpoint::kRtspUrls;
  if (path == "/") return Endpoint::kPage;
  if (path == "/metrics") return Endpoint::kMetrics;
  return Endpoint::kNone;
}

bool Detailed(const HttpRequest& request) {
  auto it = request.query.find("detailed");
  if (it == request.query.end()) return false;
  std::string value = absl::AsciiStrToLower(it->second);
  return value == "true" || value == "1" || value == "yes";
}

HttpResponse Make(int status, const char* content_type, std::string body) {
  HttpResponse response;
  response.status = status;
  response.content_type = content_type;
  response.body = std::move(body);
  // Health answers must never come from a cache between the checker and us.
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

}  // namespace

HttpResponse Route(const HttpRequest& request, const ControlPlaneView& view,
                   const RouterContext& context, absl::Time now) {
  Endpoint endpoint = Find(request.path);
  if (endpoint == Endpoint::kNone) return Make(404, kJson, "{\"error\":\"not found\"}\n");
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse response = Make(405, kJson, "{\"error\":\"method not allowed\"}\n");
    response.headers.emplace_back("Allow", "GET, HEAD");
    return response;
  }
  switch (endpoint) {
    case Endpoint::kHealth: {
      Verdict verdict = EvaluateHealth(view);
      return Make(verdict.ok ? 200 : 503, kJson,
                  RenderHealthJson(view, verdict, now, Detailed(request)));
    }
    case Endpoint::kReady: {
      Verdict verdict = EvaluateReadiness(view);
      return Make(verdict.ok ? 200 : 503, kJson, RenderReadyJson(verdict, now));
    }
    case Endpoint::kLive:
      return Make(200, kJson, RenderLiveJson(now - context.started, now));
    case Endpoint::kRtspUrls: {
      if (!view.reachable || !view.report.has_value()) {
        return Make(503, kJson, RenderUnavailableJson(EvaluateHealth(view).reason, now));
      }
      return Make(200, kJson,
                  RenderRtspUrlsJson(*view.report, UrlHost(context.public_host, request.host)));
    }
    case Endpoint::kPage:
      return Make(200, "text/html; charset=utf-8",
                  RenderStatusPage(view, EvaluateHealth(view),
                                   UrlHost(context.public_host, request.host), now));
    case Endpoint::kMetrics:
      return Make(200, kPrometheusContentType, RenderMetrics(view, EvaluateHealth(view), now));
    case Endpoint::kNone:
      break;
  }
  return Make(404, kJson, "{\"error\":\"not found\"}\n");
}

}  // namespace rtsptest::gateway
