// health_gateway: HTTP health endpoints (/health, /ready, /live, /rtsp-urls,
// /, /metrics) for load balancers and ECS, translated from an
// rtsp_test_server's gRPC control plane (grpc.health.v1 Watch plus
// rtsptest.control.v1.ControlService.GetHealthReport).
//
// Exit codes: 0 after SIGTERM/SIGINT, 1 when the HTTP port cannot be bound,
// 2 for bad flags.

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/log/log.h"
#include "common/process/stop_signals.h"
#include "common/version/version.h"
#include "gateway/gateway.h"

ABSL_FLAG(int, http_port, 8080,
          "HTTP port to serve on; 0 picks a free port (logged as http_port).");
ABSL_FLAG(std::string, bind, "0.0.0.0", "Address the HTTP port binds: an IPv4 or IPv6 literal.");
ABSL_FLAG(std::string, grpc_addr, "127.0.0.1:50051",
          "host:port of rtsp_test_server's gRPC port (health and control API).");
ABSL_FLAG(bool, grpc_tls, false,
          "Reach --grpc_addr over TLS (the server has control.tls). Implied by the other "
          "--grpc_tls_* flags.");
ABSL_FLAG(std::string, grpc_tls_ca, "",
          "PEM CA bundle that signed the server's certificate (default: the system roots).");
ABSL_FLAG(std::string, grpc_tls_server_name, "",
          "Name the server's certificate must carry (default: --grpc_addr's host).");
ABSL_FLAG(std::string, grpc_tls_cert, "",
          "PEM client certificate for a server that requires one (mTLS); with --grpc_tls_key.");
ABSL_FLAG(std::string, grpc_tls_key, "", "PEM private key of --grpc_tls_cert.");
ABSL_FLAG(std::string, public_host, "",
          "Host name put in rtsp:// URLs (/rtsp-urls and /). Default: the request's Host header "
          "without its port.");
ABSL_FLAG(bool, access_log, false, "Log every HTTP request as a JSON line.");
ABSL_FLAG(int, max_connections, 1024,
          "Concurrent HTTP connections; more wait in the kernel's backlog, and the oldest "
          "unfinished requests are closed to let them in.");
ABSL_FLAG(int, max_connections_per_ip, 0,
          "Concurrent HTTP connections per client address; 0 = no limit. Mind that load balancer "
          "health checks and NAT can share addresses.");
ABSL_FLAG(int, threads, 2, "HTTP event-loop threads (each an epoll loop).");
ABSL_FLAG(absl::Duration, idle_timeout, absl::Seconds(15),
          "Drop a connection whose client does not read its response within this long (>= 1s).");
ABSL_FLAG(absl::Duration, header_timeout, absl::Seconds(10),
          "A request's headers must arrive within this long after the connection starts waiting "
          "for it (accept or the previous response); slower clients (slowloris) are cut off. Also "
          "closes idle keep-alive connections after this long.");
ABSL_FLAG(absl::Duration, request_timeout, absl::Seconds(10),
          "A whole request, headers and body, must arrive within this long after the connection "
          "starts waiting for it; slower clients (one body byte at a time) are cut off.");
ABSL_FLAG(int, max_header_bytes, 16 * 1024,
          "Per-connection memory for the request line and headers; larger requests get 431.");
ABSL_FLAG(int, max_body_bytes, 1024,
          "Largest request body read from methods other than GET/HEAD (which the gateway refuses "
          "anyway); larger: 413. A GET/HEAD with any body gets 400 at once.");
ABSL_FLAG(absl::Duration, report_interval, absl::Milliseconds(500),
          "The heartbeat asked of the server's health report stream (WatchHealthReport): the "
          "report arrives after each probe round and status change, and at least this often.");
ABSL_FLAG(absl::Duration, rpc_timeout, absl::Milliseconds(500),
          "Grace after a missed heartbeat: no report for --report_interval + --rpc_timeout marks "
          "the control plane unreachable.");
ABSL_FLAG(std::string, log_level, "info", "debug | info | warning | error");
ABSL_FLAG(bool, version, false, "Print the version and exit.");

namespace rtsptest::gateway {
namespace {

// The contents of `path`, or nullopt (after saying why) when unreadable.
std::optional<std::string> ReadFlagFile(const char* flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) {
    std::cerr << "health_gateway: --" << flag << "='" << path << "': cannot read\n";
    return std::nullopt;
  }
  if (text.str().empty()) {
    std::cerr << "health_gateway: --" << flag << "='" << path << "': cannot read or empty\n";
    return std::nullopt;
  }
  return text.str();
}

// The follower's credentials from the --grpc_tls* flags: null for
// plaintext; false (after saying why) for a bad flag.
bool TlsFromFlags(gateway::StatusFollowerOptions* follower) {
  const std::string ca = absl::GetFlag(FLAGS_grpc_tls_ca);
  const std::string cert = absl::GetFlag(FLAGS_grpc_tls_cert);
  const std::string key = absl::GetFlag(FLAGS_grpc_tls_key);
  follower->tls_server_name = absl::GetFlag(FLAGS_grpc_tls_server_name);
  if (!absl::GetFlag(FLAGS_grpc_tls) && ca.empty() && cert.empty() && key.empty() &&
      follower->tls_server_name.empty()) {
    return true;
  }
  if (cert.empty() != key.empty()) {
    std::cerr << "health_gateway: --grpc_tls_cert and --grpc_tls_key go together\n";
    return false;
  }
  grpc::SslCredentialsOptions ssl;
  for (const auto& [flag, path, pem] : {std::tuple<const char*, const std::string&, std::string*>{
                                            "grpc_tls_ca", ca, &ssl.pem_root_certs},
                                        {"grpc_tls_cert", cert, &ssl.pem_cert_chain},
                                        {"grpc_tls_key", key, &ssl.pem_private_key}}) {
    if (path.empty()) continue;
    std::optional<std::string> contents = ReadFlagFile(flag, path);
    if (!contents) return false;
    *pem = *std::move(contents);
  }
  follower->credentials = grpc::SslCredentials(ssl);
  return true;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "HTTP health gateway for rtsp_test_server: /health /ready /live /rtsp-urls / /metrics.\n\n"
      "  health_gateway --grpc_addr=127.0.0.1:50051 --http_port=8080\n"
      "  curl -s localhost:8080/health?detailed=true\n\n"
      "/health is 200 while the server's overall grpc.health.v1 status is SERVING, else 503 with\n"
      "a \"reason\"; it answers from cached state and never waits for the server.\n"
      "See docs/gateway.md. Exit codes: 0 clean stop, 1 cannot serve, 2 bad flags.");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "health_gateway: unexpected argument '" << rest[1] << "'\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_version)) {
    std::cout << "health_gateway " << common::kVersion << "\n";
    return 0;
  }
  common::LogLevel level;
  if (!common::ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level)) {
    std::cerr << "health_gateway: --log_level='" << absl::GetFlag(FLAGS_log_level)
              << "': must be debug, info, warning or error\n";
    return 2;
  }
  common::SetLogLevel(level);
  if (absl::GetFlag(FLAGS_max_header_bytes) < 1024 || absl::GetFlag(FLAGS_max_body_bytes) < 0) {
    std::cerr << "health_gateway: --max_header_bytes must be >= 1024 and --max_body_bytes >= 0\n";
    return 2;
  }

  gateway::GatewayOptions options;
  options.http.port = absl::GetFlag(FLAGS_http_port);
  options.http.bind_address = absl::GetFlag(FLAGS_bind);
  options.http.access_log = absl::GetFlag(FLAGS_access_log);
  options.http.max_connections = absl::GetFlag(FLAGS_max_connections);
  options.http.max_connections_per_ip = absl::GetFlag(FLAGS_max_connections_per_ip);
  options.http.threads = absl::GetFlag(FLAGS_threads);
  options.http.idle_timeout = absl::GetFlag(FLAGS_idle_timeout);
  options.http.header_timeout = absl::GetFlag(FLAGS_header_timeout);
  options.http.request_timeout = absl::GetFlag(FLAGS_request_timeout);
  options.http.max_header_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_header_bytes));
  options.http.max_body_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_body_bytes));
  options.follower.grpc_addr = absl::GetFlag(FLAGS_grpc_addr);
  options.follower.report_interval = absl::GetFlag(FLAGS_report_interval);
  options.follower.rpc_timeout = absl::GetFlag(FLAGS_rpc_timeout);
  options.public_host = absl::GetFlag(FLAGS_public_host);
  if (!TlsFromFlags(&options.follower)) return 2;
  if (options.follower.report_interval < absl::Milliseconds(50) ||
      options.follower.rpc_timeout < absl::Milliseconds(10)) {
    std::cerr << "health_gateway: --report_interval must be >= 50ms and --rpc_timeout >= 10ms\n";
    return 2;
  }

  // Before any thread starts, so that every thread inherits the mask.
  common::StopSignals stop_signals = common::StopSignals::Install();

  common::Log(common::LogLevel::kInfo, "starting",
              {{"version", common::kVersion}, {"grpc_addr", options.follower.grpc_addr}});
  absl::StatusOr<std::unique_ptr<gateway::Gateway>> gateway = gateway::Gateway::Start(options);
  if (!gateway.ok()) {
    common::Log(common::LogLevel::kError, "cannot serve",
                {{"error", std::string(gateway.status().message())}});
    std::cerr << "health_gateway: " << gateway.status().message() << "\n";
    return gateway.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  int signal = stop_signals.Wait();
  common::Log(common::LogLevel::kInfo, "stopping", {{"signal", common::StopSignals::Name(signal)}});
  (*gateway)->Stop();
  common::Log(common::LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace
}  // namespace rtsptest::gateway

int main(int argc, char** argv) { return rtsptest::gateway::Main(argc, argv); }
