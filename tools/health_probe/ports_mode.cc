// health_probe -mode=ports: see ports_mode.h.
#include "tools/health_probe/ports_mode.h"

#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/flags/go_flags.h"
#include "common/json/json.h"
#include "common/k_of_n/k_of_n_rule.h"
#include "common/port_list/port_list.h"
#include "common/rtsp/rtsp_prober.h"

namespace rtsptest::tools {

int RunPorts(const CliOptions& o) {
  if (o.timeout <= absl::ZeroDuration()) {
    return BadArguments(absl::StrCat("error: -timeout must be greater than zero (specified: ",
                                     common::FormatGoDuration(o.timeout), ")"));
  }
  if (o.host.empty()) return BadArguments("error: -host must not be empty");
  absl::StatusOr<std::vector<uint32_t>> parsed = common::ParsePortList(o.ports);
  if (!parsed.ok()) return BadArguments(absl::StrCat("error: -ports: ", parsed.status().message()));
  std::vector<int> ports(parsed->begin(), parsed->end());
  if (absl::c_linear_search(ports, 0)) {
    return BadArguments("error: -ports: 0 is not a port to probe (1..65535)");
  }
  absl::StatusOr<common::KOfNRule> rule = common::KOfNRule::Create(
      static_cast<int>(ports.size()),
      o.min_healthy == 0 ? std::nullopt : std::optional<int>(o.min_healthy));
  if (!rule.ok())
    return BadArguments(absl::StrCat("error: -min-healthy: ", rule.status().message()));

  common::ProbeOptions probe_options;
  probe_options.timeout = o.timeout;
  probe_options.deep_check = !o.describe_path.empty();
  if (!o.user_agent.empty()) probe_options.user_agent = o.user_agent;
  std::string path = o.describe_path;
  if (!path.empty() && path[0] == '/') path.erase(0, 1);
  std::vector<common::ProbeTarget> targets;
  for (int port : ports) targets.push_back(common::ProbeTarget{o.host, port, path});
  const std::vector<common::ProbeResult> results =
      common::RtspProber(probe_options).ProbeAll(targets);

  int open = 0;
  common::Json entries = common::Json::array();
  for (size_t i = 0; i < results.size(); ++i) {
    const common::ProbeResult& r = results[i];
    common::Json entry = common::Json::object();
    entry["port"] = ports[i];
    entry["ok"] = r.ok;
    if (r.ok) {
      ++open;
      entry["latency_ms"] = absl::ToDoubleMilliseconds(r.latency);
    } else {
      entry["failure"] = std::string(common::ProbeFailureName(r.failure));
      entry["error"] = r.error;
      if (o.verbose) PrintLine(r.reason);
    }
    entries.push_back(std::move(entry));
  }
  const bool healthy = rule->Evaluate(open);
  common::Json verdict = common::Json::object();
  verdict["status"] = healthy ? "healthy" : "unhealthy";
  verdict["open_ports"] = open;
  verdict["total_ports"] = ports.size();
  verdict["min_healthy"] = rule->k();
  verdict["ports"] = std::move(entries);
  // Latencies as "0.410", the format the docs show.
  std::printf("%s\n", common::DumpJson(verdict, common::JsonFloatStyle::Fixed(3)).c_str());
  std::fflush(stdout);
  return healthy ? kHealthy : kUnhealthy;
}

}  // namespace rtsptest::tools
