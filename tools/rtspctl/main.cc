// rtspctl: command-line client of the rtsp-test-server control API
// (rtsptest.control.v1.ControlService). See `rtspctl --help`.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "tools/rtspctl/args.h"
#include "tools/rtspctl/client.h"
#include "tools/rtspctl/commands.h"

namespace rtsptest::tools {

const char kGlobalHelp[] = R"(
Global flags:
  --addr host:port        Control API address (default $RTSP_TEST_ADDR, else
                          127.0.0.1:50051).
  --token token           Sent as "authorization: Bearer <token>" (default
                          $RTSP_TEST_CONTROL_TOKEN).
  --tls                   Use TLS (implied by --tls_ca and --tls_cert).
  --tls_ca file           CA certificates (PEM) that sign the server's.
  --tls_cert file         Client certificate (PEM) for mutual TLS, with
  --tls_key file          its private key.
  --tls_server_name name  Name to check in the server's certificate.
  --timeout 5s            Deadline of each call.
  -o, --output format     table (default), json (protobuf's JSON mapping, one
                          document) or yaml.
  -h, --help              Help for any command.

Exit codes:
  0  ok                   5  invalid argument / failed precondition
  1  any other error      6  unauthenticated / permission denied
  2  usage error          7  server unavailable / deadline exceeded
  3  not found            8  not available in this server version
  4  already exists
Errors are printed on stderr as "rtspctl: <code>: <server message>".
)";

namespace {

constexpr char kHelp[] = R"(Usage: rtspctl <command> [flags]

Commands:
  streams ls|get|create|update|rm|apply   Streams at run time.
  plugins ls                              Loaded plugins and their parameters.
  sessions ls|kick                        Readers' sessions; disconnect them.
  fault inject|clear|ls                   Faults on streams and listeners.
  events                                  Follow the server's events.
  health                                  The health report.
  info                                    Version, uptime and listeners.

Run `rtspctl <command> --help` for a command's flags and examples.
Examples:
  rtspctl info
  rtspctl --addr 10.0.0.5:50051 --token "$TOKEN" streams ls -o json
)";

int Main(int argc, char** argv) {
  Args args;
  if (absl::Status s = args.Parse(argc, argv); !s.ok()) return ReportUsage(s.message());
  const auto& words = args.positional();
  if (words.empty()) {
    if (args.help()) {
      std::cout << kHelp << kGlobalHelp;
      return kExitOk;
    }
    std::cerr << kHelp;
    return kExitUsage;
  }
  const std::string& group = words[0];
  if (group == "streams") return RunStreams(args);
  if (group == "plugins") return RunPlugins(args);
  if (group == "health") return RunHealth(args);
  if (group == "info") return RunInfo(args);
  if (group == "sessions") return RunSessions(args);
  if (group == "fault") return RunFaults(args);
  if (group == "events") return RunEvents(args);
  return ReportUsage(absl::StrCat("unknown command '", group, "'"));
}

}  // namespace
}  // namespace rtsptest::tools

int main(int argc, char** argv) { return rtsptest::tools::Main(argc, argv); }
