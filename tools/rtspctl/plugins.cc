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
  Command c;
  if (int code = PrepareCommand(args, {}, &c); code != kExitOk) return code;

  control::v1::ListPluginsResponse response;
  grpc::Status status = c.client->stub().ListPlugins(c.client->NewContext().get(),
                                                     control::v1::ListPluginsRequest(), &response);
  if (!status.ok()) return ReportRpcError(status);
  if (c.format != OutputFormat::kTable) {
    PrintMessage(c.format, response, std::cout);
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
