// rtsp:// URLs as the caller of the control API reaches the RTSP listeners:
// a listener bound to every address is reached on the host the caller used
// for the control port (its :authority), one bound to a specific address on
// that address.
#ifndef RTSPTEST_CONTROL_SERVICES_LISTENER_URL_H_
#define RTSPTEST_CONTROL_SERVICES_LISTENER_URL_H_

#include <string>

#include "absl/strings/string_view.h"
#include "core/listener/rtsp_listener.h"

namespace rtsptest::control {

// The host of a request's :authority ("host:port", "[v6]:port", "host"),
// without brackets; "" when it is empty or malformed.
std::string CallerHost(absl::string_view authority);

// "rtsp://host:port" of `listener` for a caller that used `caller_host`
// ("" = unknown: wildcard binds then fall back to loopback).
std::string ListenerUrl(const core::RtspListener& listener, absl::string_view caller_host);

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_SERVICES_LISTENER_URL_H_
