// rtspctl plugins ls: ListPlugins (loaded plugins and load failures).
#include <iostream>

#include "absl/strings/str_cat.h"
#include "tools/rtspctl/client.h"
#include "tools/rtspctl/commands.h"
#include "tools/rtspctl/output.h"

namespace rtsptest::tools {
namespace {

constexpr char kHelp[] = R"(Usage: rtspctl plugins ls [flags]

Lists the plugins the server loaded (name, version, parameters) and those it
could not load (ListPlugins).

Examples:
  rtspctl plugins ls
  rtspctl plugins ls -o yaml
)";

}  // namespace

int RunPlugins(const Args& args) {
  const auto& words = args.positional();
  if (args.help()) {
    std::cout << kHelp << kGlobalHelp;
    return kExitOk;
  }
  if (words.size() != 2 || words[1] != "ls") return ReportUsage("usage: rtspctl plugins ls");
  if (absl::Status s = args.CheckAllowed({}); !s.ok()) return ReportUsage(s.message());
  absl::StatusOr<OutputFormat> format = OutputFormatFromArgs(args);
  if (!format.ok()) return ReportUsage(format.status().message());
  absl::StatusOr<std::unique_ptr<ControlClient>> client = ControlClient::FromArgs(args);
  if (!client.ok()) return ReportUsage(client.status().message());

  control::v1::ListPluginsResponse response;
  grpc::Status status = (*client)->stub().ListPlugins((*client)->NewContext().get(),
                                                      control::v1::ListPluginsRequest(), &response);
  if (!status.ok()) return ReportRpcError(status);
  if (*format != OutputFormat::kTable) {
    PrintMessage(*format, response, std::cout);
    return kExitOk;
  }
  Table table({"NAME", "VERSION", "PARAMETERS", "DESCRIPTION"});
  for (const auto& plugin : response.plugins()) {
    std::string parameters;
    for (const auto& p : plugin.parameters()) {
      absl::StrAppend(&parameters, parameters.empty() ? "" : ",", p.name());
    }
    table.AddRow({plugin.name(), plugin.version(), parameters, plugin.description()});
  }
  for (const auto& failed : response.failed()) {
    table.AddRow({failed.name(), "-", "-", absl::StrCat("FAILED: ", failed.error())});
  }
  table.Print(std::cout);
  return kExitOk;
}

}  // namespace rtsptest::tools
