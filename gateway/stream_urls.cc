// Stream URLs from a HealthReport.
#include "gateway/stream_urls.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/net/host_port.h"

namespace rtsptest::gateway {
namespace {

bool IsHostNameChar(char c) { return absl::ascii_isalnum(c) || c == '.' || c == '-' || c == '_'; }

// "[v6]" with only hex digits, colons and dots inside.
bool IsBracketedIpv6(absl::string_view host) {
  if (host.size() < 3 || host.front() != '[' || host.back() != ']') return false;
  for (char c : host.substr(1, host.size() - 2)) {
    if (!absl::ascii_isxdigit(c) && c != ':' && c != '.') return false;
  }
  return true;
}

bool IsPlainHost(absl::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!IsHostNameChar(c)) return false;
  }
  return true;
}

}  // namespace

std::string UrlHost(absl::string_view public_host, absl::string_view host_header) {
  if (!public_host.empty()) {
    // An IPv6 literal from the flag may come without brackets.
    return common::BracketHost(public_host);
  }
  absl::string_view host = absl::StripAsciiWhitespace(host_header);
  if (!host.empty() && host.front() == '[') {
    size_t end = host.find(']');
    if (end == absl::string_view::npos) return kFallbackHost;
    host = host.substr(0, end + 1);
    return IsBracketedIpv6(host) ? std::string(host) : kFallbackHost;
  }
  host = host.substr(0, host.find(':'));
  return IsPlainHost(host) ? std::string(host) : kFallbackHost;
}

std::vector<StreamUrls> BuildStreamUrls(const control::v1::HealthReport& report,
                                        absl::string_view host) {
  std::vector<StreamUrls> out;
  out.reserve(report.streams_size());
  for (const control::v1::StreamReport& stream : report.streams()) {
    StreamUrls entry{&stream, {}};
    for (const std::string& name : stream.listeners()) {
      for (const control::v1::ListenerReport& listener : report.listeners()) {
        if (listener.name() != name || !listener.bound()) continue;
        entry.urls.push_back(absl::StrCat("rtsp://", host, ":", listener.port(), stream.path()));
      }
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace rtsptest::gateway
