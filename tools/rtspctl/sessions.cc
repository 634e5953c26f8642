// rtspctl sessions: ls, kick (ListSessions, KickSessions).
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/time/proto_time.h"
#include "tools/rtspctl/client.h"
#include "tools/rtspctl/commands.h"
#include "tools/rtspctl/output.h"

namespace rtsptest::tools {
namespace {

constexpr char kHelp[] = R"(Usage: rtspctl sessions <command> [flags]

Commands:
  ls                      Readers' sessions: ID STREAM LISTENER REMOTE
                          TRANSPORT AGE PACKETS KBYTES.
  kick <id>               Close one session's connection.
  kick --stream /path     Close every session of a stream.
  kick --all              Close every session.

Flags:
  --stream /path          ls: only this stream's sessions; kick: this stream's.
  --all                   kick: every session of the server.

Examples:
  rtspctl sessions ls
  rtspctl sessions ls --stream /cam1 -o json
  rtspctl sessions kick 6pDWuMXeYbPB3jrq
  rtspctl sessions kick --stream /cam1
)";

int List(const Args& args, Command& c) {
  control::v1::ListSessionsRequest request;
  request.set_stream(args.Get("stream"));
  control::v1::ListSessionsResponse response;
  grpc::Status status =
      c.client->stub().ListSessions(c.client->NewContext().get(), request, &response);
  if (!status.ok()) return ReportRpcError(status);
  if (c.format != OutputFormat::kTable) {
    PrintMessage(c.format, response, std::cout);
    return kExitOk;
  }
  Table table({"ID", "STREAM", "LISTENER", "REMOTE", "TRANSPORT", "AGE", "PACKETS", "KBYTES"});
  const absl::Time now = absl::Now();
  for (const auto& s : response.sessions()) {
    absl::Duration age = now - common::FromProtoTimestamp(s.since());
    table.AddRow({s.id(), s.stream(), s.listener(), s.remote(), s.transport(),
                  absl::FormatDuration(absl::Trunc(age, absl::Seconds(1))),
                  absl::StrCat(s.packets_sent()), absl::StrCat(s.bytes_sent() / 1000)});
  }
  table.Print(std::cout);
  return kExitOk;
}

int Kick(const Args& args, Command& c) {
  const std::vector<std::string>& words = args.positional();
  control::v1::KickSessionsRequest request;
  int selectors = (words.size() == 3) + args.Has("stream") + args.Has("all");
  if (selectors != 1) {
    return ReportUsage("usage: rtspctl sessions kick <id> | --stream /path | --all");
  }
  if (words.size() == 3) request.set_session_id(words[2]);
  if (args.Has("stream")) request.set_stream(args.Get("stream"));
  if (args.Has("all")) request.set_all(true);
  control::v1::KickSessionsResponse response;
  grpc::Status status =
      c.client->stub().KickSessions(c.client->NewContext().get(), request, &response);
  if (!status.ok()) return ReportRpcError(status);
  if (c.format != OutputFormat::kTable) {
    PrintMessage(c.format, response, std::cout);
  } else {
    std::cout << "kicked " << response.kicked() << " session" << (response.kicked() == 1 ? "" : "s")
              << "\n";
  }
  return kExitOk;
}

}  // namespace

int RunSessions(const Args& args) {
  const std::vector<std::string>& words = args.positional();
  if (args.help()) {
    std::cout << kHelp << kGlobalHelp;
    return kExitOk;
  }
  if (words.size() < 2) return ReportUsage("sessions: which command? (ls, kick)");
  const std::string& verb = words[1];
  Command c;
  if (verb == "ls") {
    if (words.size() != 2) return ReportUsage("usage: rtspctl sessions ls [--stream /path]");
    if (int code = PrepareCommand(args, {"stream"}, &c); code != kExitOk) return code;
    return List(args, c);
  }
  if (verb == "kick") {
    if (words.size() > 3) return ReportUsage("usage: rtspctl sessions kick <id>");
    if (int code = PrepareCommand(args, {"stream", "all"}, &c); code != kExitOk) return code;
    return Kick(args, c);
  }
  return ReportUsage(absl::StrCat("sessions: unknown command '", verb, "'"));
}

}  // namespace rtsptest::tools
