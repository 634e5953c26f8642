// What health_probe's modes share: the parsed flags, the exit codes and the
// stderr messages.
#ifndef RTSPTEST_TOOLS_HEALTH_PROBE_CLI_H_
#define RTSPTEST_TOOLS_HEALTH_PROBE_CLI_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace rtsptest::tools {

// Exit codes, the same in every mode (grpc_health_probe's).
enum ExitCode {
  kHealthy = 0,
  kInvalidArguments = 1,
  kConnectionFailure = 2,
  kRpcFailure = 3,
  kUnhealthy = 4,
};

// The user agent of the http and ports modes when -user-agent is not given.
inline constexpr char kDefaultUserAgent[] = "rtsp-test-server-health/1";

// Every flag of every mode; the dispatcher rejects flags of another mode.
struct CliOptions {
  std::string mode = "grpc";
  std::string user_agent;
  bool verbose = false;
  bool version = false;
  // grpc
  std::string addr;
  std::string service;
  absl::Duration connect_timeout = absl::Seconds(1);
  absl::Duration rpc_timeout = absl::Seconds(1);
  std::vector<std::string> rpc_headers;
  bool gzip = false;
  bool tls = false;
  bool tls_no_verify = false;
  std::string tls_ca_cert;
  std::string tls_client_cert;
  std::string tls_client_key;
  std::string tls_server_name;
  // http and ports
  std::string url;
  absl::Duration timeout = absl::Seconds(1);
  // ports
  std::string host = "127.0.0.1";
  std::string ports = "8554,8555,8556,8557";
  int min_healthy = 0;
  std::string describe_path;
};

// One line on stderr, without a timestamp, as grpc_health_probe logs.
void PrintLine(const std::string& line);

// Prints `message` and returns kInvalidArguments.
int BadArguments(const std::string& message);

}  // namespace rtsptest::tools

#endif  // RTSPTEST_TOOLS_HEALTH_PROBE_CLI_H_
