// host:port text, with IPv6 literals in brackets, and the loopback address a
// process uses to reach its own sockets.
#ifndef RTSPTEST_COMMON_NET_HOST_PORT_H_
#define RTSPTEST_COMMON_NET_HOST_PORT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace rtsptest::net {

// `host` as it goes in front of ":port" or into a URL: an IPv6 literal in
// brackets ("[::1]"), anything else (a name, an IPv4 literal, a literal
// already in brackets) as it is.
std::string BracketHost(absl::string_view host);

// "host:port", e.g. "127.0.0.1:8554", "[::1]:8554", "cams.example:8554".
std::string JoinHostPort(absl::string_view host, int port);

// Where this process reaches a socket of its own bound to `bind_address`:
// the wildcard binds ("", "0.0.0.0", "::") on loopback of the same family,
// a specific address on itself.
std::string LoopbackFor(absl::string_view bind_address);

}  // namespace rtsptest::net

#endif  // RTSPTEST_COMMON_NET_HOST_PORT_H_
