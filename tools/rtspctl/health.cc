// rtspctl health: GetHealthReport (rule, listeners, streams).
#include <iostream>

#include "absl/strings/str_cat.h"
#include "tools/rtspctl/client.h"
#include "tools/rtspctl/commands.h"
#include "tools/rtspctl/output.h"

namespace rtsptest::tools {
namespace {

constexpr char kHelp[] = R"(Usage: rtspctl health [flags]

Prints the server's health report: serving or not, the k-of-n listener rule,
each listener's probe result and each stream's state (GetHealthReport). The
exit code is 0 whether or not the server is serving; read "serving".

Examples:
  rtspctl health
  rtspctl health -o json | jq .serving
)";

}  // namespace

int RunHealth(const Args& args) {
  if (args.help()) {
    std::cout << kHelp << kGlobalHelp;
    return kExitOk;
  }
  if (args.positional().size() > 1) return ReportUsage("health takes no arguments");
  Command c;
  if (int code = PrepareCommand(args, {}, &c); code != kExitOk) return code;

  control::v1::HealthReport report;
  grpc::Status status = c.client->stub().GetHealthReport(
      c.client->NewContext().get(), control::v1::GetHealthReportRequest(), &report);
  if (!status.ok()) return ReportRpcError(status);
  if (c.format != OutputFormat::kTable) {
    PrintMessage(c.format, report, std::cout);
    return kExitOk;
  }
  std::cout << "serving:   " << (report.serving() ? "yes" : "no")
            << (report.draining() ? " (draining)" : "") << "\n";
  std::cout << "listeners: " << report.healthy_listeners() << "/" << report.total_listeners()
            << " healthy (need " << report.min_healthy_listeners() << ")\n\n";
  Table listeners({"LISTENER", "PORT", "HEALTHY", "CONNECTIONS", "LAST ERROR"});
  for (const auto& l : report.listeners()) {
    listeners.AddRow({l.name(), absl::StrCat(l.port()), l.healthy() ? "yes" : "no",
                      absl::StrCat(l.open_connections()), l.last_error()});
  }
  listeners.Print(std::cout);
  if (report.streams_size() > 0) {
    std::cout << "\n";
    Table streams({"STREAM", "STATE", "READERS", "FPS", "REASON"});
    for (const auto& s : report.streams()) {
      std::string state = control::v1::StreamState_Name(s.state());
      if (state.rfind("STREAM_STATE_", 0) == 0) state = state.substr(13);
      streams.AddRow(
          {s.path(), state, absl::StrCat(s.readers()), FormatNumber(s.fps(), 1), s.state_reason()});
    }
    streams.Print(std::cout);
  }
  return kExitOk;
}

}  // namespace rtsptest::tools
