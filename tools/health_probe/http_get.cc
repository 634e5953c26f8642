// HttpGet: see http_get.h.
#include "tools/health_probe/http_get.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/net/host_port.h"
#include "common/net/socket_util.h"

namespace rtsptest::tools {

absl::StatusOr<HttpUrl> ParseHttpUrl(absl::string_view url) {
  constexpr absl::string_view kScheme = "http://";
  if (!absl::StartsWithIgnoreCase(url, kScheme)) {
    return absl::InvalidArgumentError(
        absl::StrCat("url \"", url, "\": only http:// URLs are supported"));
  }
  absl::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  HttpUrl out;
  if (slash != absl::string_view::npos) out.path = std::string(rest.substr(slash));
  absl::StatusOr<common::HostPort> split = common::SplitHostPort(authority);
  if (!split.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("url \"", url, "\": ", split.status().message()));
  }
  out.host = split->host;
  if (out.host.empty() || absl::StrContains(out.host, "@")) {
    return absl::InvalidArgumentError(absl::StrCat("url \"", url, "\": no host"));
  }
  if (split->has_port) {
    if (!absl::SimpleAtoi(split->port, &out.port) || out.port < 1 || out.port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("url \"", url, "\": port must be 1..65535"));
    }
  }
  return out;
}

HttpGetResult HttpGet(const HttpUrl& url, absl::Duration timeout, const std::string& user_agent) {
  using Outcome = HttpGetResult::Outcome;
  HttpGetResult result;
  const auto deadline = common::DeadlineIn(timeout);
  absl::StatusOr<common::Socket> socket = common::ConnectTcp(url.host, url.port, deadline);
  if (!socket.ok()) {
    result.outcome = absl::IsDeadlineExceeded(socket.status()) ? Outcome::kConnectTimeout
                                                               : Outcome::kConnectFailed;
    result.error = std::string(socket.status().message());
    return result;
  }
  const std::string host_header =
      url.port == 80 ? common::BracketHost(url.host) : common::JoinHostPort(url.host, url.port);
  const std::string request =
      absl::StrCat("GET ", url.path, " HTTP/1.0\r\nHost: ", host_header,
                   "\r\nUser-Agent: ", user_agent, "\r\nAccept: */*\r\nConnection: close\r\n\r\n");
  absl::Status sent = common::SendAll(*socket, request, deadline);
  std::string buffer;
  absl::StatusOr<size_t> eol =
      sent.ok() ? common::ReadUntil(*socket, &buffer, "\n", 8192, deadline) : sent;
  if (!eol.ok()) {
    result.outcome =
        absl::IsDeadlineExceeded(eol.status()) ? Outcome::kReplyTimeout : Outcome::kRequestFailed;
    result.error = std::string(eol.status().message());
    return result;
  }
  // "HTTP/1.x NNN Reason": only the version prefix and the code matter.
  absl::string_view line(buffer.data(), *eol);
  line = absl::StripTrailingAsciiWhitespace(line);
  result.status_line = std::string(line);
  if (!absl::StartsWith(line, "HTTP/") || line.size() < 12 || line[8] != ' ' ||
      !absl::SimpleAtoi(line.substr(9, 3), &result.status_code)) {
    result.outcome = Outcome::kRequestFailed;
    result.error = absl::StrCat("malformed status line \"", line.substr(0, 100), "\"");
    return result;
  }
  result.outcome = Outcome::kReply;
  return result;
}

}  // namespace rtsptest::tools
