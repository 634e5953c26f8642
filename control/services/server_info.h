// GetServerInfo's answer: version, build, uptime and the listeners with
// their state and the URL a caller reaches them at.
#ifndef RTSPTEST_CONTROL_SERVICES_SERVER_INFO_H_
#define RTSPTEST_CONTROL_SERVICES_SERVER_INFO_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/listener/rtsp_listener.h"
#include "health/monitor/health_snapshot.h"
#include "rtsptest/control/v1/control.pb.h"

namespace rtsptest::control {

// "plugin ABI <major>.<minor>, GStreamer <x.y.z>, <compiler> <version>".
std::string BuildDescription();

class ServerInfoBuilder {
 public:
  // The health monitor's last snapshot (ListenerInfo.healthy); null or an
  // empty snapshot reports every listener unhealthy.
  using SnapshotFn = std::function<health::HealthSnapshot()>;

  // The listeners must outlive the builder.
  ServerInfoBuilder(std::vector<const core::RtspListener*> listeners, SnapshotFn snapshot,
                    absl::Time started_at)
      : listeners_(std::move(listeners)), snapshot_(std::move(snapshot)), started_at_(started_at) {}

  // `caller_host`: see ListenerUrl.
  v1::ServerInfo Build(absl::string_view caller_host) const;

 private:
  const std::vector<const core::RtspListener*> listeners_;
  const SnapshotFn snapshot_;
  const absl::Time started_at_;
};

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_SERVICES_SERVER_INFO_H_
