// libFuzzer target: the HTTP gateway's request handling (Router and the
// JSON, HTML and Prometheus renderers) for any request line a client sends,
// over any health report a server could send (strings that are not UTF-8,
// absurd numbers, empty or huge lists).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "gateway/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace gw = rtsptest::gateway;
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  // "<method> <path> <query k=v&...> <host>\n<serialized HealthReport>"
  const size_t newline = input.find('\n');
  absl::string_view line = input.substr(0, newline);
  std::vector<std::string> words = absl::StrSplit(line, absl::MaxSplits(' ', 3));
  words.resize(4);
  gw::HttpRequest request;
  request.method = words[0];
  request.path = words[1];
  for (absl::string_view pair : absl::StrSplit(words[2], '&', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    request.query[kv.first] = kv.second;
  }
  request.host = words[3];
  gw::ControlPlaneView view;
  view.grpc_addr = "127.0.0.1:50051";
  if (newline != absl::string_view::npos) {
    absl::string_view body = input.substr(newline + 1);
    rtsptest::control::v1::HealthReport report;
    if (report.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      view.report = report;
      view.reachable = !body.empty() && (body[0] & 1);
      view.overall =
          report.serving() ? gw::WatchedStatus::kServing : gw::WatchedStatus::kNotServing;
      view.report_time = absl::Now();
    }
  }
  gw::RouterContext context;
  (void)gw::Route(request, view, context, absl::Now());
  return 0;
}
