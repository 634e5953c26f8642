// host:port text, with IPv6 literals in brackets, and the loopback address a
// process uses to reach its own sockets.
#ifndef RTSPTEST_COMMON_NET_HOST_PORT_H_
#define RTSPTEST_COMMON_NET_HOST_PORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rtsptest::common {

// `host` as it goes in front of ":port" or into a URL: an IPv6 literal in
// brackets ("[::1]"), anything else (a name, an IPv4 literal, a literal
// already in brackets) as it is.
std::string BracketHost(absl::string_view host);

// "host:port", e.g. "127.0.0.1:8554", "[::1]:8554", "cams.example:8554".
std::string JoinHostPort(absl::string_view host, int port);

// The parts of a URL's authority ("host", "host:port", "[v6]", "[v6]:port").
struct HostPort {
  std::string host;  // without brackets
  bool has_port = false;
  std::string port;  // the text after ':', unchecked (the caller knows its range)
};
// InvalidArgument for an unclosed '[' or text after ']' that is not ":port".
absl::StatusOr<HostPort> SplitHostPort(absl::string_view authority);

// Where this process reaches a socket of its own bound to `bind_address`:
// the wildcard binds ("", "0.0.0.0", "::") on loopback of the same family,
// a specific address on itself.
std::string LoopbackFor(absl::string_view bind_address);

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_NET_HOST_PORT_H_
