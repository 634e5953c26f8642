// Listener URLs (see header).
#include "control/services/listener_url.h"

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/net/host_port.h"

namespace rtsptest::control {

std::string CallerHost(absl::string_view authority) {
  if (authority.empty()) return "";
  absl::StatusOr<common::HostPort> parts = common::SplitHostPort(authority);
  if (!parts.ok()) return "";
  return parts->host;
}

std::string ListenerUrl(const core::RtspListener& listener, absl::string_view caller_host) {
  const std::string& bind = listener.bind_address();
  // LoopbackFor maps exactly the wildcard binds to something else.
  const std::string loopback = common::LoopbackFor(bind);
  const bool wildcard = loopback != bind;
  std::string host = !wildcard ? bind : caller_host.empty() ? loopback : std::string(caller_host);
  const int port = static_cast<int>(listener.bound_port() != 0 ? listener.bound_port()
                                                               : listener.configured_port());
  return absl::StrCat("rtsp://", common::JoinHostPort(host, port));
}

}  // namespace rtsptest::control
