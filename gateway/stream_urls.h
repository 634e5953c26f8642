// Stream URLs: which rtsp:// URLs a client should use for each stream, and
// the host name to put in them.
//
// Pure functions over a HealthReport, shared by /rtsp-urls and the HTML page.
#ifndef RTSPTEST_GATEWAY_STREAM_URLS_H_
#define RTSPTEST_GATEWAY_STREAM_URLS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "rtsptest/control/v1/control.pb.h"

namespace rtsptest::gateway {

// Used when neither --public_host nor a usable Host header names the host.
inline constexpr char kFallbackHost[] = "localhost";

// The host for URLs: `public_host` when set, else the Host header without
// its port ("[::1]:8080" -> "[::1]", "cams.example:8080" -> "cams.example").
// A Host header with characters that cannot be in a host name is ignored
// (kFallbackHost): it is client input and ends up in pages.
std::string UrlHost(absl::string_view public_host, absl::string_view host_header);

struct StreamUrls {
  const control::v1::StreamReport* stream;  // Points into the report.
  // One per listener that exposes the stream and is bound, in report order.
  std::vector<std::string> urls;
};

// Every stream of `report` with its URLs on `host`.
std::vector<StreamUrls> BuildStreamUrls(const control::v1::HealthReport& report,
                                        absl::string_view host);

}  // namespace rtsptest::gateway

#endif  // RTSPTEST_GATEWAY_STREAM_URLS_H_
