// health_probe -mode=http: see http_mode.h.
#include "tools/health_probe/http_mode.h"

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/flags/go_flags.h"
#include "tools/health_probe/http_get.h"

namespace rtsptest::tools {

int RunHttp(const CliOptions& o) {
  if (o.url.empty()) return BadArguments("error: -url not specified");
  if (o.timeout <= absl::ZeroDuration()) {
    return BadArguments(absl::StrCat("error: -timeout must be greater than zero (specified: ",
                                     common::FormatGoDuration(o.timeout), ")"));
  }
  absl::StatusOr<HttpUrl> url = ParseHttpUrl(o.url);
  if (!url.ok()) return BadArguments(absl::StrCat("error: -url: ", url.status().message()));
  const absl::Time start = absl::Now();
  const HttpGetResult r =
      HttpGet(*url, o.timeout, o.user_agent.empty() ? kDefaultUserAgent : o.user_agent);
  if (o.verbose)
    PrintLine(absl::StrCat("time elapsed: ", common::FormatGoDuration(absl::Now() - start)));
  using Outcome = HttpGetResult::Outcome;
  switch (r.outcome) {
    case Outcome::kConnectFailed:
      PrintLine(absl::StrCat("error: failed to connect to \"", o.url, "\": ", r.error));
      return kConnectionFailure;
    case Outcome::kConnectTimeout:
      PrintLine(absl::StrCat("timeout: failed to connect to \"", o.url, "\" within ",
                             common::FormatGoDuration(o.timeout)));
      return kConnectionFailure;
    case Outcome::kReplyTimeout:
      PrintLine(absl::StrCat("timeout: http request did not complete within ",
                             common::FormatGoDuration(o.timeout)));
      return kRpcFailure;
    case Outcome::kRequestFailed:
      PrintLine(absl::StrCat("error: http request failed: ", r.error));
      return kRpcFailure;
    case Outcome::kReply:
      break;
  }
  if (r.status_code != 200) {
    PrintLine(absl::StrCat("service unhealthy (responded with \"", r.status_line, "\")"));
    return kUnhealthy;
  }
  PrintLine("status: " + r.status_line);
  return kHealthy;
}

}  // namespace rtsptest::tools
