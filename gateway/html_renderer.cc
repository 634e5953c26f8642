// The status page.
#include "gateway/html_renderer.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/time/proto_time.h"
#include "gateway/json_renderer.h"
#include "gateway/stream_urls.h"

namespace rtsptest::gateway {
namespace {

constexpr char kStyle[] = R"css(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1d2125;background:#f6f7f9}
h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:24px 0 8px}
.badge{display:inline-block;padding:6px 14px;border-radius:6px;font-weight:700;color:#fff}
.healthy{background:#1f883d}.unhealthy{background:#cf222e}
.reason{margin-left:10px;color:#57606a}
table{border-collapse:collapse;background:#fff;min-width:60%}
th,td{border:1px solid #d0d7de;padding:6px 10px;text-align:left;vertical-align:top}
th{background:#eaeef2}code{font-size:13px}
.meta{color:#57606a;font-size:13px;margin-top:6px}
.state{font-weight:700}.state.live{color:#1f883d}.state.starting{color:#57606a}
tr.stalled td,tr.failed td{background:#ffebe9}.state.stalled,.state.failed{color:#cf222e}
.why{display:block;font-weight:400;font-size:12px;color:#57606a}
)css";

// "1.2 Mbit/s", "850 kbit/s".
std::string FormatBitrate(double bits_per_second) {
  if (bits_per_second >= 1e6) return absl::StrFormat("%.2f Mbit/s", bits_per_second / 1e6);
  if (bits_per_second >= 1e3) return absl::StrFormat("%.0f kbit/s", bits_per_second / 1e3);
  return absl::StrFormat("%.0f bit/s", bits_per_second);
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes >= 1024ull * 1024 * 1024)
    return absl::StrFormat("%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  if (bytes >= 1024ull * 1024) return absl::StrFormat("%.1f MiB", bytes / (1024.0 * 1024));
  if (bytes >= 1024) return absl::StrFormat("%.1f KiB", bytes / 1024.0);
  return absl::StrCat(bytes, " B");
}

void AppendPorts(std::string* out, const control::v1::HealthReport& report) {
  absl::StrAppend(
      out,
      "<h2>RTSP ports</h2>\n<table id=\"ports\"><tr><th>Listener</th><th>Port</th>"
      "<th>State</th><th>Last probe</th><th>Last error</th><th>Connections</th></tr>\n");
  for (const control::v1::ListenerReport& listener : report.listeners()) {
    const char* state = !listener.bound()    ? "unbound"
                        : listener.healthy() ? "healthy"
                                             : "unhealthy";
    absl::StrAppend(out, "<tr><td>", HtmlEscape(listener.name()), "</td><td>", listener.port(),
                    "</td><td>", state, "</td><td>",
                    absl::StrFormat("%.2f ms", absl::ToDoubleMilliseconds(common::FromProtoDuration(
                                                   listener.last_probe_latency()))),
                    "</td><td>", HtmlEscape(listener.last_error()), "</td><td>",
                    listener.open_connections(), "</td></tr>\n");
  }
  out->append("</table>\n");
}

void AppendStreams(std::string* out, const control::v1::HealthReport& report,
                   absl::string_view host) {
  absl::StrAppend(out, "<h2>Streams</h2>\n");
  if (report.streams_size() == 0) {
    out->append("<p>No streams configured.</p>\n");
    return;
  }
  absl::StrAppend(out,
                  "<table id=\"streams\"><tr><th>Path</th><th>Description</th><th>State</th>"
                  "<th>FPS</th><th>Bitrate</th><th>Last frame</th><th>Readers</th>"
                  "<th>Sent</th><th>URLs</th></tr>\n");
  for (const StreamUrls& entry : BuildStreamUrls(report, host)) {
    const control::v1::StreamReport& stream = *entry.stream;
    // A frozen or failed stream's whole row stands out (class on the row).
    const char* state = StreamStateName(stream.state());
    std::string age =
        stream.has_last_frame_age()
            ? absl::StrFormat("%.1f s ago", absl::ToDoubleSeconds(
                                                common::FromProtoDuration(stream.last_frame_age())))
            : "none yet";
    absl::StrAppend(out, "<tr class=\"", state, "\"><td><code>", HtmlEscape(stream.path()),
                    "</code></td><td>", HtmlEscape(stream.description()), " <small>(",
                    HtmlEscape(stream.plugin()), ")</small></td><td class=\"state ", state, "\">",
                    state);
    if (!stream.state_reason().empty()) {
      absl::StrAppend(out, "<span class=\"why\">", HtmlEscape(stream.state_reason()), "</span>");
    }
    absl::StrAppend(out, "</td><td>", absl::StrFormat("%.1f", stream.fps()), "</td><td>",
                    FormatBitrate(stream.bits_per_second()), "</td><td>", age, "</td><td>",
                    stream.readers(), "</td><td>", FormatBytes(stream.bytes_produced()),
                    "</td><td>");
    for (size_t i = 0; i < entry.urls.size(); ++i) {
      if (i > 0) out->append("<br>");
      std::string url = HtmlEscape(entry.urls[i]);
      absl::StrAppend(out, "<a href=\"", url, "\"><code>", url, "</code></a>");
    }
    out->append("</td></tr>\n");
  }
  out->append("</table>\n");
}

}  // namespace

std::string HtmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\'':
        out.append("&#39;");
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string RenderStatusPage(const ControlPlaneView& view, const Verdict& health,
                             absl::string_view host, absl::Time now) {
  std::string out;
  out.reserve(8192);
  absl::StrAppend(&out,
                  "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<meta http-equiv=\"refresh\" content=\"5\">"
                  "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                  "<title>rtsp-test-server status</title><style>",
                  kStyle, "</style></head><body>\n<h1>rtsp-test-server</h1>\n");
  absl::StrAppend(&out, "<p id=\"health\"><span class=\"badge ",
                  health.ok ? "healthy" : "unhealthy", "\">", health.ok ? "HEALTHY" : "UNHEALTHY",
                  "</span>");
  if (!health.ok)
    absl::StrAppend(&out, "<span class=\"reason\">", HtmlEscape(health.reason), "</span>");
  out.append("</p>\n");
  if (view.report.has_value()) {
    const control::v1::HealthReport& report = *view.report;
    absl::StrAppend(&out, "<p>", view.reachable ? report.healthy_listeners() : 0, " of ",
                    report.total_listeners(), " RTSP ports healthy; the rule needs ",
                    report.min_healthy_listeners(), " of ", report.total_listeners(), ".</p>\n");
    if (report.streams_size() > 0) {
      int live = 0;
      for (const control::v1::StreamReport& stream : report.streams()) {
        if (stream.state() == control::v1::STREAM_STATE_LIVE) ++live;
      }
      absl::StrAppend(&out, "<p id=\"streams-live\">", live, " of ", report.streams_size(),
                      " streams live",
                      report.require_live_streams() ? " (all required for health)" : "", ".</p>\n");
    }
    absl::StrAppend(&out, "<p class=\"meta\">version ", HtmlEscape(report.version()),
                    " &middot; uptime ",
                    HtmlEscape(absl::FormatDuration(
                        absl::Trunc(common::FromProtoDuration(report.uptime()), absl::Seconds(1)))),
                    " &middot; RTSP connections opened ", report.rtsp_connections_opened(),
                    ", closed ", report.rtsp_connections_closed());
    if (report.has_checked_at() && report.checked_at().seconds() > 0) {
      absl::StrAppend(&out, " &middot; last probe round ",
                      Rfc3339(common::FromProtoTimestamp(report.checked_at())));
    }
    if (!view.reachable)
      out.append(" &middot; <b>figures are from before the control plane was lost</b>");
    out.append("</p>\n");
    AppendPorts(&out, report);
    AppendStreams(&out, report, host);
  } else {
    out.append("<p>No report from the server yet.</p>\n");
  }
  absl::StrAppend(&out, "<p class=\"meta\">Rendered ", Rfc3339(now),
                  " by the health gateway. Machine-readable: "
                  "<a href=\"/health?detailed=true\">/health</a>, <a href=\"/ready\">/ready</a>, "
                  "<a href=\"/live\">/live</a>, <a href=\"/rtsp-urls\">/rtsp-urls</a>, "
                  "<a href=\"/metrics\">/metrics</a>.</p>\n</body></html>\n");
  return out;
}

}  // namespace rtsptest::gateway
