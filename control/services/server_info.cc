// ServerInfoBuilder (see header).
#include "control/services/server_info.h"

#include <gst/gst.h>

#include "absl/strings/str_cat.h"
#include "common/time/proto_time.h"
#include "common/version/version.h"
#include "control/services/listener_url.h"
#include "core/plugin_host/plugin.h"

namespace rtsptest::control {
namespace {

std::string CompilerVersion() {
#if defined(__clang__)
  return absl::StrCat("clang ", __clang_major__, ".", __clang_minor__, ".", __clang_patchlevel__);
#elif defined(__GNUC__)
  return absl::StrCat("gcc ", __GNUC__, ".", __GNUC_MINOR__, ".", __GNUC_PATCHLEVEL__);
#else
  return "unknown compiler";
#endif
}

}  // namespace

std::string BuildDescription() {
  guint major = 0, minor = 0, micro = 0, nano = 0;
  // The GStreamer the process runs with, which may be newer than the headers.
  gst_version(&major, &minor, &micro, &nano);
  return absl::StrCat("plugin ABI ", RTS_PLUGIN_ABI_MAJOR, ".", RTS_PLUGIN_ABI_MINOR,
                      ", GStreamer ", major, ".", minor, ".", micro, ", ", CompilerVersion());
}

v1::ServerInfo ServerInfoBuilder::Build(absl::string_view caller_host) const {
  v1::ServerInfo info;
  info.set_version(common::kVersion);
  info.set_build(BuildDescription());
  *info.mutable_started_at() = common::ToProtoTimestamp(started_at_);
  *info.mutable_uptime() = common::ToProtoDuration(absl::Now() - started_at_);
  health::HealthSnapshot snapshot = snapshot_ ? snapshot_() : health::HealthSnapshot{};
  for (const core::RtspListener* listener : listeners_) {
    v1::ListenerInfo* out = info.add_listeners();
    out->set_name(listener->name());
    out->set_bind_address(listener->bind_address());
    out->set_port(listener->bound_port() != 0 ? listener->bound_port()
                                              : listener->configured_port());
    out->set_bound(listener->is_serving());
    for (const health::ListenerHealth& probed : snapshot.listeners) {
      if (probed.listener.name == listener->name()) out->set_healthy(probed.serving);
    }
    out->set_url(ListenerUrl(*listener, caller_host));
  }
  return info;
}

}  // namespace rtsptest::control
