// host:port helpers: see host_port.h.
#include "common/net/host_port.h"

#include "absl/strings/str_cat.h"

namespace rtsptest::net {

std::string BracketHost(absl::string_view host) {
  const bool bracketed = !host.empty() && host.front() == '[';
  if (!bracketed && host.find(':') != absl::string_view::npos) return absl::StrCat("[", host, "]");
  return std::string(host);
}

std::string JoinHostPort(absl::string_view host, int port) {
  return absl::StrCat(BracketHost(host), ":", port);
}

std::string LoopbackFor(absl::string_view bind_address) {
  if (bind_address.empty() || bind_address == "0.0.0.0") return "127.0.0.1";
  if (bind_address == "::") return "::1";
  return std::string(bind_address);
}

}  // namespace rtsptest::net
