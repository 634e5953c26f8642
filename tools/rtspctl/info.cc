// rtspctl info: GetServerInfo (version, uptime, listeners).
#include <iostream>

#include "absl/strings/str_cat.h"
#include "tools/rtspctl/client.h"
#include "tools/rtspctl/commands.h"
#include "tools/rtspctl/output.h"

namespace rtsptest::tools {
namespace {

constexpr char kHelp[] = R"(Usage: rtspctl info [flags]

Prints the server's version, build, uptime and listeners (GetServerInfo).

Examples:
  rtspctl info
  rtspctl info -o json | jq -r .version
)";

}  // namespace

int RunInfo(const Args& args) {
  if (args.help()) {
    std::cout << kHelp << kGlobalHelp;
    return kExitOk;
  }
  if (args.positional().size() > 1) return ReportUsage("info takes no arguments");
  Command c;
  if (int code = PrepareCommand(args, {}, &c); code != kExitOk) return code;

  control::v1::ServerInfo info;
  grpc::Status status = c.client->stub().GetServerInfo(c.client->NewContext().get(),
                                                       control::v1::GetServerInfoRequest(), &info);
  if (!status.ok()) return ReportRpcError(status);
  if (c.format != OutputFormat::kTable) {
    PrintMessage(c.format, info, std::cout);
    return kExitOk;
  }
  std::cout << "version: " << info.version() << "\n";
  if (!info.build().empty()) std::cout << "build:   " << info.build() << "\n";
  std::cout << "uptime:  " << info.uptime().seconds() << "s\n\n";
  Table table({"LISTENER", "BIND", "PORT", "BOUND", "HEALTHY", "URL"});
  for (const auto& listener : info.listeners()) {
    table.AddRow({listener.name(), listener.bind_address(), absl::StrCat(listener.port()),
                  listener.bound() ? "yes" : "no", listener.healthy() ? "yes" : "no",
                  listener.url()});
  }
  table.Print(std::cout);
  return kExitOk;
}

}  // namespace rtsptest::tools
