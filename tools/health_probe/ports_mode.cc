// health_probe -mode=ports: see ports_mode.h.
#include "tools/health_probe/ports_mode.h"

#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/flags/go_flags.h"
#include "common/json/json.h"
#include "common/k_of_n/k_of_n_rule.h"
#include "common/rtsp/rtsp_prober.h"

namespace rtsptest::health {

int RunPorts(const CliOptions& o) {
  if (o.timeout <= absl::ZeroDuration()) {
    return BadArguments(absl::StrCat("error: -timeout must be greater than zero (specified: ",
                                     FormatGoDuration(o.timeout), ")"));
  }
  if (o.host.empty()) return BadArguments("error: -host must not be empty");
  std::vector<int> ports;
  for (absl::string_view part : absl::StrSplit(o.ports, ',', absl::SkipWhitespace())) {
    int port = 0;
    if (!absl::SimpleAtoi(part, &port) || port < 1 || port > 65535) {
      return BadArguments(absl::StrCat("error: -ports: \"", part, "\" is not a port (1..65535)"));
    }
    for (int p : ports) {
      if (p == port) return BadArguments(absl::StrCat("error: -ports: ", port, " is listed twice"));
    }
    ports.push_back(port);
  }
  if (ports.empty()) return BadArguments("error: -ports: no ports given");
  absl::StatusOr<KOfNRule> rule = KOfNRule::Create(
      static_cast<int>(ports.size()),
      o.min_healthy == 0 ? std::nullopt : std::optional<int>(o.min_healthy));
  if (!rule.ok()) return BadArguments(absl::StrCat("error: -min-healthy: ", rule.status().message()));

  ProbeOptions probe_options;
  probe_options.timeout = o.timeout;
  probe_options.deep_check = !o.describe_path.empty();
  if (!o.user_agent.empty()) probe_options.user_agent = o.user_agent;
  std::string path = o.describe_path;
  if (!path.empty() && path[0] == '/') path.erase(0, 1);
  std::vector<ProbeTarget> targets;
  for (int port : ports) targets.push_back(ProbeTarget{o.host, port, path});
  const std::vector<ProbeResult> results = RtspProber(probe_options).ProbeAll(targets);

  int open = 0;
  Json entries = Json::array();
  for (size_t i = 0; i < results.size(); ++i) {
    const ProbeResult& r = results[i];
    Json entry = Json::object();
    entry["port"] = ports[i];
    entry["ok"] = r.ok;
    if (r.ok) {
      ++open;
      entry["latency_ms"] = absl::ToDoubleMilliseconds(r.latency);
    } else {
      entry["failure"] = std::string(ProbeFailureName(r.failure));
      entry["error"] = r.error;
      if (o.verbose) PrintLine(r.reason);
    }
    entries.push_back(std::move(entry));
  }
  const bool healthy = rule->Evaluate(open);
  Json verdict = Json::object();
  verdict["status"] = healthy ? "healthy" : "unhealthy";
  verdict["open_ports"] = open;
  verdict["total_ports"] = ports.size();
  verdict["min_healthy"] = rule->k();
  verdict["ports"] = std::move(entries);
  // Latencies as "0.410", the format the docs show.
  std::printf("%s\n", DumpJson(verdict, JsonFloatStyle::Fixed(3)).c_str());
  std::fflush(stdout);
  return healthy ? kHealthy : kUnhealthy;
}

}  // namespace rtsptest::health
