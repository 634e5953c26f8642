// JSON rendering for the gateway's machine-readable endpoints.
#include "gateway/json_renderer.h"

#include <cinttypes>
#include <map>

#include "absl/strings/str_format.h"
#include "common/json/json.h"
#include "common/time/proto_time.h"
#include "gateway/stream_urls.h"

namespace rtsptest::gateway {
namespace {

// Seconds and milliseconds read "5.000" in every body, as the docs show.
constexpr common::JsonFloatStyle kFloats = common::JsonFloatStyle::Fixed(3);

std::string Body(const common::Json& value) { return common::DumpJson(value, kFloats) + "\n"; }

double Seconds(absl::Time t) { return absl::ToDoubleSeconds(t - absl::UnixEpoch()); }

const char* PortState(const control::v1::ListenerReport& listener) {
  if (!listener.bound()) return "unbound";
  return listener.healthy() ? "healthy" : "unhealthy";
}

void AddDetails(common::Json* out, const ControlPlaneView& view) {
  const control::v1::HealthReport empty;
  const control::v1::HealthReport& report = view.report.has_value() ? *view.report : empty;
  (*out)["version"] = report.version();

  // Services: the report's table, with "" from the Watch (it is fresher).
  // While unreachable nothing is known to be healthy.
  std::map<std::string, bool> services(report.services().begin(), report.services().end());
  if (view.reachable) {
    services[""] = view.overall == WatchedStatus::kServing && !report.draining();
  } else {
    for (auto& [name, serving] : services) serving = false;
    services[""] = false;
  }
  common::Json& service_states = (*out)["services"] = common::Json::object();
  for (const auto& [name, serving] : services)
    service_states[name] = serving ? "healthy" : "unhealthy";

  common::Json& ports = (*out)["ports"] = common::Json::array();
  for (const control::v1::ListenerReport& listener : report.listeners()) {
    common::Json port = common::Json::object();
    port["port"] = listener.port();
    port["name"] = listener.name();
    port["state"] = view.reachable ? PortState(listener) : "unknown";
    port["last_error"] = listener.last_error();
    port["latency_ms"] =
        absl::ToDoubleMilliseconds(common::FromProtoDuration(listener.last_probe_latency()));
    port["consecutive_failures"] = listener.consecutive_failures();
    ports.push_back(std::move(port));
  }

  common::Json& rule = (*out)["rule"] = common::Json::object();
  rule["k"] = report.min_healthy_listeners();
  rule["n"] = report.total_listeners();
  (*out)["checked_at"] =
      report.has_checked_at() && report.checked_at().seconds() > 0
          ? common::Json(Rfc3339(common::FromProtoTimestamp(report.checked_at())))
          : common::Json(nullptr);
  (*out)["require_live_streams"] = report.require_live_streams();
  (*out)["stall_timeout_seconds"] =
      absl::ToDoubleSeconds(common::FromProtoDuration(report.stall_timeout()));

  common::Json& streams = (*out)["streams"] = common::Json::array();
  for (const control::v1::StreamReport& stream : report.streams()) {
    common::Json entry = common::Json::object();
    entry["path"] = stream.path();
    entry["state"] = view.reachable ? StreamStateName(stream.state()) : "unknown";
    entry["reason"] = stream.state_reason();
    entry["last_frame_age_seconds"] = stream.has_last_frame_age()
                                          ? common::Json(absl::ToDoubleSeconds(
                                                common::FromProtoDuration(stream.last_frame_age())))
                                          : common::Json(nullptr);
    entry["fps"] = stream.fps();
    entry["bitrate_bps"] = static_cast<uint64_t>(stream.bits_per_second() + 0.5);
    entry["frames_produced"] = stream.frames_produced();
    streams.push_back(std::move(entry));
  }
}

}  // namespace

std::string UnixSeconds(absl::Time t) { return absl::StrFormat("%.3f", Seconds(t)); }

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string RenderHealthJson(const ControlPlaneView& view, const Verdict& verdict, absl::Time now,
                             bool detailed) {
  uint32_t open = 0, total = 0;
  if (view.report.has_value()) {
    total = view.report->total_listeners();
    if (view.reachable) open = view.report->healthy_listeners();
  }
  common::Json out = common::Json::object();
  out["status"] = verdict.ok ? "healthy" : "unhealthy";
  out["open_ports"] = open;
  out["total_ports"] = total;
  out["timestamp"] = Seconds(now);
  if (!verdict.ok) out["reason"] = verdict.reason;
  if (detailed) AddDetails(&out, view);
  return Body(out);
}

std::string RenderReadyJson(const Verdict& verdict, absl::Time now) {
  common::Json out = common::Json::object();
  out["status"] = verdict.ok ? "ready" : "not ready";
  out["timestamp"] = Seconds(now);
  if (!verdict.ok) out["reason"] = verdict.reason;
  return Body(out);
}

std::string RenderLiveJson(absl::Duration gateway_uptime, absl::Time now) {
  common::Json out = common::Json::object();
  out["status"] = "alive";
  out["uptime_seconds"] = absl::ToDoubleSeconds(gateway_uptime);
  out["timestamp"] = Seconds(now);
  return Body(out);
}

std::string RenderRtspUrlsJson(const control::v1::HealthReport& report, absl::string_view host) {
  common::Json out = common::Json::object();
  out["host"] = std::string(host);
  common::Json& streams = out["streams"] = common::Json::array();
  for (const StreamUrls& entry : BuildStreamUrls(report, host)) {
    common::Json stream = common::Json::object();
    stream["path"] = entry.stream->path();
    stream["description"] = entry.stream->description();
    stream["plugin"] = entry.stream->plugin();
    stream["readers"] = entry.stream->readers();
    stream["urls"] = entry.urls;
    streams.push_back(std::move(stream));
  }
  return Body(out);
}

std::string RenderUnavailableJson(absl::string_view reason, absl::Time now) {
  common::Json out = common::Json::object();
  out["status"] = "unavailable";
  out["reason"] = std::string(reason);
  out["timestamp"] = Seconds(now);
  return Body(out);
}

}  // namespace rtsptest::gateway
