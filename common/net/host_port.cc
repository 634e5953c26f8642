// host:port helpers: see host_port.h.
#include "common/net/host_port.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace rtsptest::common {

std::string BracketHost(absl::string_view host) {
  const bool bracketed = !host.empty() && host.front() == '[';
  if (!bracketed && host.find(':') != absl::string_view::npos) return absl::StrCat("[", host, "]");
  return std::string(host);
}

std::string JoinHostPort(absl::string_view host, int port) {
  return absl::StrCat(BracketHost(host), ":", port);
}

absl::StatusOr<HostPort> SplitHostPort(absl::string_view authority) {
  HostPort out;
  absl::string_view rest;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return absl::InvalidArgumentError("unclosed '['");
    out.host = std::string(authority.substr(1, close - 1));
    rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return absl::InvalidArgumentError(absl::StrCat("'", rest, "' after ']' is not :port"));
    }
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != absl::string_view::npos) rest = authority.substr(colon);
  }
  if (!rest.empty()) {
    out.has_port = true;
    out.port = std::string(rest.substr(1));
  }
  return out;
}

std::string LoopbackFor(absl::string_view bind_address) {
  if (bind_address.empty() || bind_address == "0.0.0.0") return "127.0.0.1";
  if (bind_address == "::") return "::1";
  return std::string(bind_address);
}

}  // namespace rtsptest::common
