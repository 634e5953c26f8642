// HealthReporter (see header).
#include "control/services/health_report.h"

#include <algorithm>

#include "common/time/proto_time.h"
#include "common/version/version.h"
#include "control/services/stream_report.h"

namespace rtsptest::control {

v1::HealthReport HealthReporter::Build() const {
  v1::HealthReport report;
  report.set_version(common::kVersion);
  health::HealthSnapshot snapshot = monitor_ ? monitor_->snapshot() : health::HealthSnapshot{};
  report.set_serving(snapshot.serving);
  report.set_first_round_done(snapshot.first_round_done);
  report.set_draining(snapshot.draining);
  report.set_min_healthy_listeners(static_cast<uint32_t>(snapshot.min_healthy_listeners));
  report.set_total_listeners(static_cast<uint32_t>(server_->listeners().size()));
  report.set_healthy_listeners(static_cast<uint32_t>(snapshot.healthy_listeners));
  *report.mutable_checked_at() = common::ToProtoTimestamp(snapshot.time);
  *report.mutable_uptime() = common::ToProtoDuration(absl::Now() - started_at_);
  report.set_probe_rounds(snapshot.round);
  report.set_require_live_streams(server_->config().health().require_live_streams());
  *report.mutable_stall_timeout() = common::ToProtoDuration(server_->streams().stall_timeout());
  auto& services = *report.mutable_services();
  services[""] = snapshot.serving;
  services["rtsp"] = snapshot.serving;
  services["control"] = !snapshot.draining;
  AddListeners(snapshot, &report);
  // What Check answers now: "" may also follow the streams
  // (require_live_streams), and "stream:<path>" names are only there.
  if (publisher_ != nullptr) {
    for (const auto& [name, serving] : publisher_->Statuses()) services[name] = serving;
    report.set_serving(services[""]);
  }
  AddStreams(&report);
  return report;
}

void HealthReporter::AddListeners(const health::HealthSnapshot& snapshot,
                                  v1::HealthReport* report) const {
  auto& services = *report->mutable_services();
  uint64_t opened = 0, open_now = 0;
  for (const auto& listener : server_->listeners()) {
    v1::ListenerReport* out = report->add_listeners();
    out->set_name(listener->name());
    out->set_bind_address(listener->bind_address());
    out->set_bound(listener->is_serving());
    out->set_port(listener->bound_port() != 0 ? listener->bound_port()
                                              : listener->configured_port());
    out->set_open_connections(static_cast<uint32_t>(listener->connected_clients()));
    out->set_connections_accepted(static_cast<uint64_t>(listener->accepted_clients()));
    out->set_max_connections(static_cast<uint32_t>(std::max(listener->max_connections(), 0)));
    out->set_refused_over_limit(static_cast<uint64_t>(listener->refused_over_limit()));
    out->set_requests_over_limits(static_cast<uint64_t>(listener->requests_over_limits()));
    out->set_stalled_readers_dropped(static_cast<uint64_t>(listener->stalled_readers_dropped()));
    out->set_idle_connections_closed(static_cast<uint64_t>(listener->idle_connections_closed()));
    out->set_accept_failures(static_cast<uint64_t>(listener->accept_failures()));
    opened += static_cast<uint64_t>(listener->accepted_clients());
    open_now += static_cast<uint64_t>(listener->connected_clients());
    for (const health::ListenerHealth& probed : snapshot.listeners) {
      if (probed.listener.name != listener->name()) continue;
      out->set_port(static_cast<uint32_t>(probed.listener.port));
      out->set_bound(probed.listener.bound);
      out->set_healthy(probed.serving);
      out->set_last_error(probed.last_error);
      *out->mutable_last_probe_latency() = common::ToProtoDuration(probed.last_latency);
      out->set_consecutive_failures(static_cast<uint32_t>(probed.consecutive_failures));
      services[health::GrpcHealthPublisher::ListenerName(probed.listener.port)] =
          probed.serving && !snapshot.draining;
    }
  }
  report->set_rtsp_connections_opened(opened);
  report->set_rtsp_connections_closed(opened - open_now);
}

void HealthReporter::AddStreams(v1::HealthReport* report) const {
  for (const core::Stream& stream : server_->streams().List()) {
    FillStreamReport(stream, report->add_streams());
  }
}

}  // namespace rtsptest::control
