// HttpGet: the minimal HTTP client behind `health_probe -mode=http`.
//
// It sends one HTTP/1.0 GET and reads only the status line: health checks
// care about the code, and HTTP/1.0 with "Connection: close" keeps the
// exchange to one request, one reply, no chunking. http:// only; TLS is for
// the gRPC mode.
#ifndef RTSPTEST_TOOLS_HEALTH_PROBE_HTTP_GET_H_
#define RTSPTEST_TOOLS_HEALTH_PROBE_HTTP_GET_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rtsptest::tools {

struct HttpUrl {
  std::string host;  // Without brackets for IPv6.
  int port = 80;
  std::string path = "/";  // With the query, if any.
};

// Parses "http://host[:port][/path]", with "[::1]" for IPv6 literals.
// InvalidArgument for other schemes or a malformed authority.
absl::StatusOr<HttpUrl> ParseHttpUrl(absl::string_view url);

struct HttpGetResult {
  enum class Outcome {
    kReply,          // A status line arrived: see status_code.
    kConnectFailed,  // Resolve error or refused: nothing to talk to.
    kConnectTimeout,
    kRequestFailed,  // Connected, but the reply was missing or malformed.
    kReplyTimeout,
  };
  Outcome outcome = Outcome::kRequestFailed;
  int status_code = 0;      // With kReply.
  std::string status_line;  // With kReply, e.g. "HTTP/1.1 503 Service Unavailable".
  std::string error;        // Otherwise.
};

// GETs `url` within `timeout` (connect, send and the status line together).
HttpGetResult HttpGet(const HttpUrl& url, absl::Duration timeout, const std::string& user_agent);

}  // namespace rtsptest::tools

#endif  // RTSPTEST_TOOLS_HEALTH_PROBE_HTTP_GET_H_
