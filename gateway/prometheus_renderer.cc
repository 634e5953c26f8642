// Prometheus text rendering.
#include "gateway/prometheus_renderer.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rtsptest::gateway {
namespace {

constexpr char kPrefix[] = "rtsp_test_server_";

using Labels = std::vector<std::pair<std::string, std::string>>;

// Writes one family: HELP and TYPE once, then its samples.
class Family {
 public:
  Family(std::string* out, absl::string_view name, absl::string_view type, absl::string_view help)
      : out_(out), name_(absl::StrCat(kPrefix, name)) {
    absl::StrAppend(out_, "# HELP ", name_, " ", help, "\n# TYPE ", name_, " ", type, "\n");
  }
  void Sample(const Labels& labels, double value) {
    out_->append(name_);
    if (!labels.empty()) {
      out_->push_back('{');
      for (size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) out_->push_back(',');
        absl::StrAppend(out_, labels[i].first, "=\"", PrometheusLabelValue(labels[i].second), "\"");
      }
      out_->push_back('}');
    }
    absl::StrAppend(out_, " ", absl::StrFormat("%.9g", value), "\n");
  }
  void Sample(double value) { Sample({}, value); }

 private:
  std::string* out_;
  std::string name_;
};

double Seconds(const google::protobuf::Duration& d) { return d.seconds() + d.nanos() / 1e9; }

Labels ListenerLabels(const control::v1::ListenerReport& listener) {
  return {{"listener", listener.name()}, {"port", absl::StrCat(listener.port())}};
}

}  // namespace

std::string PrometheusLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '"') {
      out.append("\\\"");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string RenderMetrics(const ControlPlaneView& view, const Verdict& health, absl::Time now) {
  std::string out;
  out.reserve(4096);
  Family(
      &out, "gateway_control_plane_up", "gauge",
      "1 while the gateway follows the server's control plane (Watch open, last report fetched).")
      .Sample(view.reachable ? 1 : 0);
  if (view.report.has_value()) {
    Family(&out, "gateway_report_age_seconds", "gauge",
           "Age of the health report the figures come from.")
        .Sample(absl::ToDoubleSeconds(now - view.report_time));
  }
  Family status(
      &out, "health_status", "gauge",
      "grpc.health.v1 status per service name as the gateway sees it: 1 SERVING, 0 otherwise.");
  if (!view.reachable || !view.report.has_value()) {
    status.Sample({{"service", ""}}, 0);
    return out;
  }
  const control::v1::HealthReport& report = *view.report;
  std::map<std::string, bool> services(report.services().begin(), report.services().end());
  services[""] = health.ok;
  for (const auto& [name, serving] : services) status.Sample({{"service", name}}, serving ? 1 : 0);

  Family(&out, "draining", "gauge", "1 after SIGTERM: every health name is NOT_SERVING for good.")
      .Sample(report.draining() ? 1 : 0);
  Family(&out, "listeners", "gauge", "RTSP listeners configured (n of the k-of-n rule).")
      .Sample(report.total_listeners());
  Family(&out, "healthy_listeners", "gauge", "RTSP listeners that passed their last probe.")
      .Sample(report.healthy_listeners());
  Family(&out, "min_healthy_listeners", "gauge", "k of the k-of-n rule.")
      .Sample(report.min_healthy_listeners());

  Family healthy(&out, "listener_healthy", "gauge", "1 when the listener passed its last probe.");
  for (const auto& listener : report.listeners())
    healthy.Sample(ListenerLabels(listener), listener.healthy() ? 1 : 0);
  Family latency(&out, "probe_latency_seconds", "gauge",
                 "Duration of the last probe of the listener (TCP connect + RTSP OPTIONS).");
  for (const auto& listener : report.listeners()) {
    latency.Sample(ListenerLabels(listener), Seconds(listener.last_probe_latency()));
  }
  Family failures(&out, "probe_consecutive_failures", "gauge",
                  "Probes of the listener that failed in a row (0 after a success).");
  for (const auto& listener : report.listeners()) {
    failures.Sample(ListenerLabels(listener), listener.consecutive_failures());
  }
  Family(&out, "probe_rounds_total", "counter", "Probe rounds completed since the server started.")
      .Sample(static_cast<double>(report.probe_rounds()));
  Family open(&out, "listener_open_connections", "gauge",
              "RTSP connections open now on the listener.");
  for (const auto& listener : report.listeners())
    open.Sample(ListenerLabels(listener), listener.open_connections());
  Family max_open(&out, "listener_max_connections", "gauge",
                  "The listener's connection limit (0: none); one more is answered 503.");
  for (const auto& listener : report.listeners())
    max_open.Sample(ListenerLabels(listener), listener.max_connections());
  Family ended(&out, "listener_connections_ended_total", "counter",
               "Connections the listener refused or closed to protect itself, by reason.");
  for (const auto& listener : report.listeners()) {
    const std::pair<const char*, uint64_t> reasons[] = {
        {"connection_limit", listener.refused_over_limit()},
        {"request_limits", listener.requests_over_limits()},
        {"stalled_reader", listener.stalled_readers_dropped()},
        {"idle", listener.idle_connections_closed()}};
    for (const auto& [reason, count] : reasons) {
      Labels labels = ListenerLabels(listener);
      labels.emplace_back("reason", reason);
      ended.Sample(labels, static_cast<double>(count));
    }
  }
  Family accept_failures(&out, "listener_accept_failures_total", "counter",
                         "Failed accepts (e.g. out of descriptors; the listener backs off).");
  for (const auto& listener : report.listeners()) {
    accept_failures.Sample(ListenerLabels(listener),
                           static_cast<double>(listener.accept_failures()));
  }

  Family readers(&out, "stream_readers", "gauge", "Readers set up on the stream now.");
  for (const auto& stream : report.streams())
    readers.Sample({{"path", stream.path()}}, stream.readers());
  Family bytes(&out, "stream_bytes_produced_total", "counter",
               "RTP bytes the stream's payloaders produced (shared media: once for all readers).");
  for (const auto& stream : report.streams()) {
    bytes.Sample({{"path", stream.path()}}, static_cast<double>(stream.bytes_produced()));
  }
  Family live(&out, "stream_live", "gauge",
              "1 while the stream is live (a frame within the stall timeout): its stream:<path> "
              "health name is SERVING.");
  for (const auto& stream : report.streams()) {
    live.Sample({{"path", stream.path()}},
                stream.state() == control::v1::STREAM_STATE_LIVE ? 1 : 0);
  }
  Family state(&out, "stream_state", "gauge",
               "1 for the stream's current liveness state, 0 for the others.");
  for (const auto& stream : report.streams()) {
    for (control::v1::StreamState s :
         {control::v1::STREAM_STATE_STARTING, control::v1::STREAM_STATE_LIVE,
          control::v1::STREAM_STATE_STALLED, control::v1::STREAM_STATE_FAILED}) {
      state.Sample({{"path", stream.path()}, {"state", StreamStateName(s)}},
                   stream.state() == s ? 1 : 0);
    }
  }
  Family age(&out, "stream_last_frame_age_seconds", "gauge",
             "Time since the stream's last video frame (audio-only: last packet); absent before "
             "the first frame.");
  for (const auto& stream : report.streams()) {
    if (stream.has_last_frame_age())
      age.Sample({{"path", stream.path()}}, Seconds(stream.last_frame_age()));
  }
  Family fps(&out, "stream_fps", "gauge",
             "Frames per second the stream produced over the last 5 s.");
  for (const auto& stream : report.streams()) fps.Sample({{"path", stream.path()}}, stream.fps());
  Family bitrate(&out, "stream_bitrate_bits_per_second", "gauge",
                 "RTP bits per second the stream produced over the last 5 s, all tracks.");
  for (const auto& stream : report.streams())
    bitrate.Sample({{"path", stream.path()}}, stream.bits_per_second());
  Family frames(&out, "stream_frames_produced_total", "counter",
                "Video frames the stream produced since it was mounted (audio-only: RTP packets).");
  for (const auto& stream : report.streams()) {
    frames.Sample({{"path", stream.path()}}, static_cast<double>(stream.frames_produced()));
  }
  Family(&out, "stream_stall_timeout_seconds", "gauge",
         "health.stall_timeout: no frame for longer is a stall.")
      .Sample(Seconds(report.stall_timeout()));
  Family(&out, "rtsp_connections_opened_total", "counter",
         "RTSP connections accepted, over all listeners.")
      .Sample(static_cast<double>(report.rtsp_connections_opened()));
  Family(&out, "rtsp_connections_closed_total", "counter",
         "RTSP connections closed, over all listeners.")
      .Sample(static_cast<double>(report.rtsp_connections_closed()));
  Family(&out, "uptime_seconds", "gauge", "Seconds since the server started.")
      .Sample(Seconds(report.uptime()));
  Family(&out, "build_info", "gauge", "Always 1; the server's version is a label.")
      .Sample({{"version", report.version()}}, 1);
  return out;
}

}  // namespace rtsptest::gateway
