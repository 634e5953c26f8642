// JSON rendering for the gateway's machine-readable endpoints.
#include "gateway/json_renderer.h"

#include "common/time/proto_time.h"

#include <cinttypes>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/stream_urls.h"
#include "common/log/log.h"

namespace rtsptest::gateway {
namespace {

void AppendKey(std::string* out, absl::string_view key) {
  if (out->back() != '{') out->push_back(',');
  AppendJsonString(out, key);
  out->push_back(':');
}

void AppendStringField(std::string* out, absl::string_view key, absl::string_view value) {
  AppendKey(out, key);
  AppendJsonString(out, value);
}

std::string Number(double value) { return absl::StrFormat("%.3f", value); }

const char* PortState(const control::v1::ListenerReport& listener) {
  if (!listener.bound()) return "unbound";
  return listener.healthy() ? "healthy" : "unhealthy";
}

void AppendDetails(std::string* out, const ControlPlaneView& view) {
  const control::v1::HealthReport empty;
  const control::v1::HealthReport& report = view.report.has_value() ? *view.report : empty;
  AppendStringField(out, "version", report.version());

  // Services: the report's table, with "" from the Watch (it is fresher).
  // While unreachable nothing is known to be healthy.
  std::map<std::string, bool> services(report.services().begin(), report.services().end());
  if (view.reachable) {
    services[""] = view.overall == WatchedStatus::kServing && !report.draining();
  } else {
    for (auto& [name, serving] : services) serving = false;
    services[""] = false;
  }
  AppendKey(out, "services");
  out->push_back('{');
  for (const auto& [name, serving] : services) {
    AppendStringField(out, name, serving ? "healthy" : "unhealthy");
  }
  out->push_back('}');

  AppendKey(out, "ports");
  out->push_back('[');
  for (const control::v1::ListenerReport& listener : report.listeners()) {
    if (out->back() != '[') out->push_back(',');
    out->push_back('{');
    AppendKey(out, "port");
    absl::StrAppend(out, listener.port());
    AppendStringField(out, "name", listener.name());
    AppendStringField(out, "state", view.reachable ? PortState(listener) : "unknown");
    AppendStringField(out, "last_error", listener.last_error());
    AppendKey(out, "latency_ms");
    absl::StrAppend(out, Number(absl::ToDoubleMilliseconds(FromProtoDuration(listener.last_probe_latency()))));
    AppendKey(out, "consecutive_failures");
    absl::StrAppend(out, listener.consecutive_failures());
    out->push_back('}');
  }
  out->push_back(']');

  AppendKey(out, "rule");
  absl::StrAppend(out, "{\"k\":", report.min_healthy_listeners(), ",\"n\":", report.total_listeners(), "}");
  AppendKey(out, "checked_at");
  if (report.has_checked_at() && report.checked_at().seconds() > 0) {
    AppendJsonString(out, Rfc3339(FromProtoTimestamp(report.checked_at())));
  } else {
    out->append("null");
  }

  AppendKey(out, "require_live_streams");
  out->append(report.require_live_streams() ? "true" : "false");
  AppendKey(out, "stall_timeout_seconds");
  out->append(Number(absl::ToDoubleSeconds(FromProtoDuration(report.stall_timeout()))));
  AppendKey(out, "streams");
  out->push_back('[');
  for (const control::v1::StreamReport& stream : report.streams()) {
    if (out->back() != '[') out->push_back(',');
    out->push_back('{');
    AppendStringField(out, "path", stream.path());
    AppendStringField(out, "state", view.reachable ? StreamStateName(stream.state()) : "unknown");
    AppendStringField(out, "reason", stream.state_reason());
    AppendKey(out, "last_frame_age_seconds");
    if (stream.has_last_frame_age()) {
      out->append(Number(absl::ToDoubleSeconds(FromProtoDuration(stream.last_frame_age()))));
    } else {
      out->append("null");
    }
    AppendKey(out, "fps");
    out->append(Number(stream.fps()));
    AppendKey(out, "bitrate_bps");
    absl::StrAppend(out, static_cast<uint64_t>(stream.bits_per_second() + 0.5));
    AppendKey(out, "frames_produced");
    absl::StrAppend(out, stream.frames_produced());
    out->push_back('}');
  }
  out->push_back(']');
}

}  // namespace

std::string UnixSeconds(absl::Time t) {
  return absl::StrFormat("%.3f", absl::ToDoubleSeconds(t - absl::UnixEpoch()));
}

std::string Rfc3339(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone()); }

std::string RenderHealthJson(const ControlPlaneView& view, const Verdict& verdict, absl::Time now,
                             bool detailed) {
  uint32_t open = 0, total = 0;
  if (view.report.has_value()) {
    total = view.report->total_listeners();
    if (view.reachable) open = view.report->healthy_listeners();
  }
  std::string out = "{";
  AppendStringField(&out, "status", verdict.ok ? "healthy" : "unhealthy");
  absl::StrAppend(&out, ",\"open_ports\":", open, ",\"total_ports\":", total,
                  ",\"timestamp\":", UnixSeconds(now));
  if (!verdict.ok) AppendStringField(&out, "reason", verdict.reason);
  if (detailed) AppendDetails(&out, view);
  out.append("}\n");
  return out;
}

std::string RenderReadyJson(const Verdict& verdict, absl::Time now) {
  std::string out = "{";
  AppendStringField(&out, "status", verdict.ok ? "ready" : "not ready");
  absl::StrAppend(&out, ",\"timestamp\":", UnixSeconds(now));
  if (!verdict.ok) AppendStringField(&out, "reason", verdict.reason);
  out.append("}\n");
  return out;
}

std::string RenderLiveJson(absl::Duration gateway_uptime, absl::Time now) {
  return absl::StrCat("{\"status\":\"alive\",\"uptime_seconds\":",
                      Number(absl::ToDoubleSeconds(gateway_uptime)), ",\"timestamp\":", UnixSeconds(now),
                      "}\n");
}

std::string RenderRtspUrlsJson(const control::v1::HealthReport& report, absl::string_view host) {
  std::string out = "{";
  AppendStringField(&out, "host", host);
  AppendKey(&out, "streams");
  out.push_back('[');
  for (const StreamUrls& entry : BuildStreamUrls(report, host)) {
    if (out.back() != '[') out.push_back(',');
    out.push_back('{');
    AppendStringField(&out, "path", entry.stream->path());
    AppendStringField(&out, "description", entry.stream->description());
    AppendStringField(&out, "plugin", entry.stream->plugin());
    AppendKey(&out, "readers");
    absl::StrAppend(&out, entry.stream->readers());
    AppendKey(&out, "urls");
    out.push_back('[');
    for (const std::string& url : entry.urls) {
      if (out.back() != '[') out.push_back(',');
      AppendJsonString(&out, url);
    }
    out.append("]}");
  }
  out.append("]}\n");
  return out;
}

std::string RenderUnavailableJson(absl::string_view reason, absl::Time now) {
  std::string out = "{\"status\":\"unavailable\"";
  AppendStringField(&out, "reason", reason);
  absl::StrAppend(&out, ",\"timestamp\":", UnixSeconds(now), "}\n");
  return out;
}

}  // namespace rtsptest::gateway
