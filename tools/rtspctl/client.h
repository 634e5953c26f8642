// The gRPC side of rtspctl: the channel (address, TLS), per-call metadata
// (token, deadline) and the mapping of gRPC codes to rtspctl's exit codes.
#ifndef RTSPTEST_TOOLS_RTSPCTL_CLIENT_H_
#define RTSPTEST_TOOLS_RTSPCTL_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "rtsptest/control/v1/control.grpc.pb.h"
#include "tools/rtspctl/args.h"
#include "tools/rtspctl/output.h"

namespace rtsptest::tools {

// Exit codes scripts can rely on (also in --help and docs/rtspctl.md).
enum ExitCode {
  kExitOk = 0,
  kExitError = 1,
  kExitUsage = 2,
  kExitNotFound = 3,
  kExitAlreadyExists = 4,
  kExitInvalid = 5,       // INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE
  kExitDenied = 6,        // UNAUTHENTICATED, PERMISSION_DENIED
  kExitUnavailable = 7,   // UNAVAILABLE, DEADLINE_EXCEEDED
  kExitNotSupported = 8,  // UNIMPLEMENTED: the server has no such RPC
};

int ExitCodeFor(grpc::StatusCode code);

// Prints "rtspctl: <code>: <message>" on stderr and returns the exit code.
int ReportRpcError(const grpc::Status& status);
// Prints "rtspctl: <message>" (and a hint to --help) and returns kExitUsage.
int ReportUsage(absl::string_view message);

class ControlClient {
 public:
  // From the global flags and $RTSP_TEST_ADDR / $RTSP_TEST_CONTROL_TOKEN.
  // InvalidArgument for a bad --timeout or an unreadable TLS file.
  static absl::StatusOr<std::unique_ptr<ControlClient>> FromArgs(const Args& args);

  control::v1::ControlService::Stub& stub() { return *stub_; }
  // A context carrying the token and the deadline; one per call.
  std::unique_ptr<grpc::ClientContext> NewContext() const;
  // The same without a deadline, for a stream that is followed until the
  // user stops it.
  std::unique_ptr<grpc::ClientContext> NewStreamContext() const;

 private:
  std::unique_ptr<control::v1::ControlService::Stub> stub_;
  std::string token_;
  absl::Duration timeout_;
};

// What every subcommand needs: the output format and a client.
struct Command {
  OutputFormat format = OutputFormat::kTable;
  std::unique_ptr<ControlClient> client;
};

// Checks the flags (global ones and `allowed`) and fills `command`. Returns
// kExitOk, or kExitUsage after printing the problem.
int PrepareCommand(const Args& args, const std::vector<std::string>& allowed, Command* command);

}  // namespace rtsptest::tools

#endif  // RTSPTEST_TOOLS_RTSPCTL_CLIENT_H_
