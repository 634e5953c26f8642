// health_probe: a small health-check CLI for Docker HEALTHCHECK, the ECS
// container healthCheck command and Kubernetes exec probes.
//
//   -mode=grpc  (default) grpc.health.v1 Check, a drop-in for
//               grpc_health_probe: same flags, messages and exit codes.
//   -mode=http  GET a URL (the health gateway's /health); healthy on 200.
//   -mode=ports the k-of-n rule straight against RTSP ports (TCP connect +
//               OPTIONS); needs no control plane; prints one JSON line.
//
// Exit codes (all modes): 0 healthy, 1 bad arguments, 2 connection failed
// or timed out, 3 the request (RPC) failed or timed out, 4 not healthy.
//
// Start-up cost matters (it runs every few seconds in every container):
// nothing gRPC-related is initialized unless the mode is grpc.
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/flags/go_flags.h"
#include "common/version/version.h"
#include "tools/health_probe/cli.h"
#include "tools/health_probe/grpc_mode.h"
#include "tools/health_probe/http_mode.h"
#include "tools/health_probe/ports_mode.h"

namespace rtsptest::tools {
namespace {

constexpr char kUsage[] = R"(Usage: health_probe [-mode=grpc|http|ports] [flags]

Checks the health of an rtsp-test-server (or any gRPC server) and exits with:
  0 healthy (SERVING / HTTP 200 / enough RTSP ports)
  1 bad arguments
  2 connection failed or timed out
  3 the RPC or HTTP request failed or timed out (incl. NOT_FOUND, UNIMPLEMENTED)
  4 not healthy (NOT_SERVING / HTTP status other than 200 / too few RTSP ports)

Flags take one or two dashes, and "-flag value" or "-flag=value"; a bool flag
alone means true (-tls), or -tls=false. Durations: 1s, 500ms, 1m30s.

Common flags:
  -mode string          grpc (default), http or ports
  -user-agent string    user agent (default "grpc_health_probe" in grpc mode,
                        "rtsp-test-server-health/1" otherwise)
  -v                    verbose logs on stderr
  -version              print the version and exit 0
  -h, -help             print this help and exit 0

grpc mode (the default; grpc_health_probe's flags and messages):
  -addr string          (required) tcp host:port (or any gRPC target) to connect
  -service string       service name to check (default "": overall health)
  -connect-timeout dur  timeout for establishing the connection (default 1s)
  -rpc-timeout dur      timeout for the health RPC (default 1s)
  -rpc-header "k: v"    extra metadata, repeatable
  -gzip                 use gzip compression on the RPC
  -tls                  use TLS (default: plaintext)
  -tls-no-verify        with -tls, do not verify the server certificate
  -tls-ca-cert file     with -tls, trusted CA certificates (PEM)
  -tls-client-cert file with -tls, client certificate for mutual TLS (PEM)
  -tls-client-key file  with -tls, client private key for mutual TLS (PEM)
  -tls-server-name name with -tls, override the hostname used to verify
  Prints "status: SERVING" on success, as grpc_health_probe does.

http mode (against the health gateway):
  -url string           (required) http://host[:port]/path; IPv6 as http://[::1]:8080/health
  -timeout dur          connect + request + status line (default 1s)
  One HTTP/1.0 GET; only the status line is read. 200 = healthy (0), any other
  status = 4, refused/unresolvable/connect timeout = 2, no or malformed reply = 3.

ports mode (RTSP listeners directly, no control plane):
  -host string          host to probe (default 127.0.0.1; IPv6 literals allowed)
  -ports list           comma-separated ports (default 8554,8555,8556,8557)
  -min-healthy int      ports that must pass (default ceil(0.75 * number of ports))
  -timeout dur          per port: TCP connect + RTSP OPTIONS (default 1s)
  -describe-path path   also DESCRIBE rtsp://host:port/<path> and expect an SDP
  Each port passes when it accepts and answers OPTIONS with "RTSP/1.0 200".
  Prints one JSON line on stdout, e.g.
  {"status":"healthy","open_ports":3,"total_ports":4,"min_healthy":3,"ports":[
   {"port":8554,"ok":true,"latency_ms":0.41},...,
   {"port":8557,"ok":false,"failure":"refused","error":"connection refused"}]}
  Exit 0 when at least -min-healthy ports pass, otherwise 4.
)";

// Which flags belong to which mode, to reject e.g. -url in grpc mode.
const std::set<std::string>& ModeFlags(const std::string& mode) {
  static const auto* kGrpc = new std::set<std::string>{"addr",
                                                       "service",
                                                       "connect-timeout",
                                                       "rpc-timeout",
                                                       "rpc-header",
                                                       "gzip",
                                                       "tls",
                                                       "tls-no-verify",
                                                       "tls-ca-cert",
                                                       "tls-client-cert",
                                                       "tls-client-key",
                                                       "tls-server-name"};
  static const auto* kHttp = new std::set<std::string>{"url", "timeout"};
  static const auto* kPorts =
      new std::set<std::string>{"host", "ports", "min-healthy", "timeout", "describe-path"};
  if (mode == "http") return *kHttp;
  if (mode == "ports") return *kPorts;
  return *kGrpc;
}

int Main(int argc, char** argv) {
  CliOptions o;
  common::GoFlags flags;
  flags.AddString("mode", &o.mode);
  flags.AddString("user-agent", &o.user_agent);
  flags.AddBool("v", &o.verbose);
  flags.AddBool("version", &o.version);
  flags.AddString("addr", &o.addr);
  flags.AddString("service", &o.service);
  flags.AddDuration("connect-timeout", &o.connect_timeout);
  flags.AddDuration("rpc-timeout", &o.rpc_timeout);
  flags.AddStringList("rpc-header", &o.rpc_headers);
  flags.AddBool("gzip", &o.gzip);
  flags.AddBool("tls", &o.tls);
  flags.AddBool("tls-no-verify", &o.tls_no_verify);
  flags.AddString("tls-ca-cert", &o.tls_ca_cert);
  flags.AddString("tls-client-cert", &o.tls_client_cert);
  flags.AddString("tls-client-key", &o.tls_client_key);
  flags.AddString("tls-server-name", &o.tls_server_name);
  flags.AddString("url", &o.url);
  flags.AddDuration("timeout", &o.timeout);
  flags.AddString("host", &o.host);
  flags.AddString("ports", &o.ports);
  flags.AddInt("min-healthy", &o.min_healthy);
  flags.AddString("describe-path", &o.describe_path);
  if (absl::Status s = flags.Parse(argc, argv); !s.ok()) {
    return BadArguments(absl::StrCat(s.message(), "\nRun 'health_probe -help' for usage."));
  }
  if (flags.help_requested()) {
    std::fputs(kUsage, stdout);
    return kHealthy;
  }
  if (o.version) {
    std::printf("health_probe (rtsp-test-server) %s, grpc_health_probe compatible\n",
                common::kVersion);
    return kHealthy;
  }
  if (o.mode != "grpc" && o.mode != "http" && o.mode != "ports") {
    return BadArguments(absl::StrCat("error: -mode=", o.mode, ": must be grpc, http or ports"));
  }
  static const std::set<std::string> kCommon = {"mode", "user-agent", "v", "version"};
  const std::set<std::string>& allowed = ModeFlags(o.mode);
  for (const std::string& name : flags.set_flags()) {
    if (kCommon.count(name) == 0 && allowed.count(name) == 0) {
      return BadArguments(absl::StrCat("error: flag -", name, " is not valid with -mode=", o.mode));
    }
  }
  if (o.mode == "http") return RunHttp(o);
  if (o.mode == "ports") return RunPorts(o);
  return RunGrpc(o);
}

}  // namespace
}  // namespace rtsptest::tools

// Exits without running destructors or gRPC's shutdown: by now the verdict is
// printed, and the process holds nothing that outlives it (no files written,
// sockets close with it). A normal return would join gRPC's executor and
// timer threads and tear down its global state, about a millisecond of every
// check for nothing.
int main(int argc, char** argv) {
  const int code = rtsptest::tools::Main(argc, argv);
  std::fflush(nullptr);
  std::_Exit(code);
}
