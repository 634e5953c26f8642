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
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "common/flags/go_flags.h"
#include "tools/health_probe/http_get.h"
#include "common/rtsp/rtsp_prober.h"
#include "common/k_of_n/k_of_n_rule.h"

namespace rtsptest::health {
namespace {

constexpr char kVersion[] = "health_probe (rtsp-test-server) 0.1.0, grpc_health_probe compatible";
constexpr char kDefaultUserAgent[] = "rtsp-test-server-health/1";

enum ExitCode {
  kHealthy = 0,
  kInvalidArguments = 1,
  kConnectionFailure = 2,
  kRpcFailure = 3,
  kUnhealthy = 4,
};

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

struct Options {
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
  std::string host = "127.0.0.1";
  std::string ports = "8554,8555,8556,8557";
  int min_healthy = 0;
  std::string describe_path;
};

// Which flags belong to which mode, to reject e.g. -url in grpc mode.
const std::set<std::string>& ModeFlags(const std::string& mode) {
  static const auto* kGrpc = new std::set<std::string>{
      "addr", "service", "connect-timeout", "rpc-timeout", "rpc-header", "gzip", "tls",
      "tls-no-verify", "tls-ca-cert", "tls-client-cert", "tls-client-key", "tls-server-name"};
  static const auto* kHttp = new std::set<std::string>{"url", "timeout"};
  static const auto* kPorts =
      new std::set<std::string>{"host", "ports", "min-healthy", "timeout", "describe-path"};
  if (mode == "http") return *kHttp;
  if (mode == "ports") return *kPorts;
  return *kGrpc;
}

// grpc_health_probe logs without timestamps to stderr.
void Log(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

int BadArguments(const std::string& message) {
  Log(message);
  return kInvalidArguments;
}

std::string Quote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// ---------------------------------------------------------------- grpc mode

// Go's codes.Code.String(), so error lines read like grpc_health_probe's.
std::string GoCodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK",           "Canceled",          "Unknown",          "InvalidArgument",
      "DeadlineExceeded", "NotFound",      "AlreadyExists",    "PermissionDenied",
      "ResourceExhausted", "FailedPrecondition", "Aborted",    "OutOfRange",
      "Unimplemented", "Internal",         "Unavailable",      "DataLoss",
      "Unauthenticated"};
  const int i = static_cast<int>(code);
  if (i >= 0 && i < static_cast<int>(sizeof(kNames) / sizeof(kNames[0]))) return kNames[i];
  return absl::StrCat("Code(", i, ")");
}

absl::Status ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("failed to read file ", path));
  std::ostringstream text;
  text << in.rdbuf();
  *out = text.str();
  return absl::OkStatus();
}

// Validates TLS flags the way grpc_health_probe does.
std::optional<std::string> TlsFlagError(const Options& o) {
  if (!o.tls) {
    if (o.tls_no_verify) return "specified -tls-no-verify without specifying -tls";
    if (!o.tls_ca_cert.empty()) return "specified -tls-ca-cert without specifying -tls";
    if (!o.tls_client_cert.empty()) return "specified -tls-client-cert without specifying -tls";
    if (!o.tls_client_key.empty()) return "specified -tls-client-key without specifying -tls";
    if (!o.tls_server_name.empty()) return "specified -tls-server-name without specifying -tls";
    return std::nullopt;
  }
  if (o.tls_no_verify && !o.tls_ca_cert.empty()) {
    return "cannot specify -tls-ca-cert with -tls-no-verify (CA cert would not be used)";
  }
  if (o.tls_no_verify && !o.tls_server_name.empty()) {
    return "cannot specify -tls-server-name with -tls-no-verify (server name would not be used)";
  }
  if (o.tls_client_cert.empty() != o.tls_client_key.empty()) {
    return "-tls-client-cert and -tls-client-key must be specified together";
  }
  return std::nullopt;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> BuildCredentials(const Options& o) {
  if (!o.tls) return grpc::InsecureChannelCredentials();
  std::string ca, cert, key;
  if (!o.tls_ca_cert.empty()) {
    if (absl::Status s = ReadFile(o.tls_ca_cert, &ca); !s.ok()) return s;
  }
  if (!o.tls_client_cert.empty()) {
    if (absl::Status s = ReadFile(o.tls_client_cert, &cert); !s.ok()) return s;
    if (absl::Status s = ReadFile(o.tls_client_key, &key); !s.ok()) return s;
  }
  if (o.tls_no_verify) {
    // Skips chain and hostname checks, like Go's InsecureSkipVerify.
    grpc::experimental::TlsChannelCredentialsOptions options;
    options.set_verify_server_certs(false);
    options.set_check_call_host(false);
    options.set_certificate_verifier(
        std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    if (!cert.empty()) {
      options.set_certificate_provider(
          std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
              std::vector<grpc::experimental::IdentityKeyCertPair>{{key, cert}}));
      options.watch_identity_key_cert_pairs();
    }
    return grpc::experimental::TlsCredentials(options);
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca;
  ssl.pem_private_key = key;
  ssl.pem_cert_chain = cert;
  return grpc::SslCredentials(ssl);
}

int RunGrpc(const Options& o) {
  if (o.addr.empty()) return BadArguments("error: -addr not specified");
  if (o.connect_timeout <= absl::ZeroDuration()) {
    return BadArguments(absl::StrCat("error: -connect-timeout must be greater than zero (specified: ",
                                     FormatGoDuration(o.connect_timeout), ")"));
  }
  if (o.rpc_timeout <= absl::ZeroDuration()) {
    return BadArguments(absl::StrCat("error: -rpc-timeout must be greater than zero (specified: ",
                                     FormatGoDuration(o.rpc_timeout), ")"));
  }
  if (std::optional<std::string> error = TlsFlagError(o)) return BadArguments("error: " + *error);
  std::vector<std::pair<std::string, std::string>> headers;
  for (const std::string& h : o.rpc_headers) {
    const size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      return BadArguments(absl::StrCat(
          "error: invalid -rpc-header, expected 'key: value', got \"", h, "\""));
    }
    // gRPC metadata keys are lowercase (Go lowercases them too).
    headers.emplace_back(absl::AsciiStrToLower(absl::StripAsciiWhitespace(h.substr(0, colon))),
                         std::string(absl::StripAsciiWhitespace(h.substr(colon + 1))));
  }
  const std::string user_agent = o.user_agent.empty() ? "grpc_health_probe" : o.user_agent;
  if (o.verbose) {
    Log("parsed options:");
    Log(absl::StrCat("> addr=", o.addr, " conn_timeout=", FormatGoDuration(o.connect_timeout),
                     " rpc_timeout=", FormatGoDuration(o.rpc_timeout)));
    if (!headers.empty()) {
      Log("> headers: " + absl::StrJoin(headers, ", ", absl::PairFormatter(": ")));
    }
    Log(absl::StrCat("> tls=", o.tls ? "true" : "false"));
    if (o.tls) {
      Log(absl::StrCat("  > no-verify=", o.tls_no_verify ? "true" : "false"));
      Log("  > ca-cert=" + o.tls_ca_cert);
      Log("  > client-cert=" + o.tls_client_cert);
      Log("  > client-key=" + o.tls_client_key);
      Log("  > server-name=" + o.tls_server_name);
    }
    Log("establishing connection");
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds = BuildCredentials(o);
  if (!creds.ok()) {
    return BadArguments(absl::StrCat("error: failed to initialize tls credentials. error=",
                                     creds.status().message()));
  }
  grpc::ChannelArguments args;
  args.SetUserAgentPrefix(user_agent);
  if (!o.tls_server_name.empty()) args.SetSslTargetNameOverride(o.tls_server_name);
  if (o.gzip) args.SetCompressionAlgorithm(GRPC_COMPRESS_GZIP);
  const absl::Time connect_start = absl::Now();
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(o.addr, *creds, args);

  // Wait for READY like grpc-go's blocking dial, but fail at once on
  // TRANSIENT_FAILURE (refused, handshake error) as FailOnNonTempDialError
  // does, instead of retrying until the timeout.
  const auto deadline = absl::ToChronoTime(connect_start + o.connect_timeout);
  for (grpc_connectivity_state state = channel->GetState(/*try_to_connect=*/true);
       state != GRPC_CHANNEL_READY; state = channel->GetState(true)) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) {
      Log(absl::StrCat("error: failed to connect service at \"", o.addr,
                       "\": connection failed (refused, unreachable or handshake error)"));
      return kConnectionFailure;
    }
    if (!channel->WaitForStateChange(state, deadline)) {
      Log(absl::StrCat("timeout: failed to connect service \"", o.addr, "\" within ",
                       FormatGoDuration(o.connect_timeout)));
      return kConnectionFailure;
    }
  }
  const absl::Duration connect_time = absl::Now() - connect_start;
  if (o.verbose) Log(absl::StrCat("connection established (took ", FormatGoDuration(connect_time), ")"));

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + o.rpc_timeout));
  for (const auto& [key, value] : headers) context.AddMetadata(key, value);
  if (o.gzip) context.set_compression_algorithm(GRPC_COMPRESS_GZIP);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(o.service);
  grpc::health::v1::HealthCheckResponse response;
  const absl::Time rpc_start = absl::Now();
  const grpc::Status status =
      grpc::health::v1::Health::NewStub(channel)->Check(&context, request, &response);
  const absl::Duration rpc_time = absl::Now() - rpc_start;
  if (!status.ok()) {
    if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      Log("error: this server does not implement the grpc health protocol "
          "(grpc.health.v1.Health): " + status.error_message());
    } else if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      Log("timeout: health rpc did not complete within " + FormatGoDuration(o.rpc_timeout));
    } else {
      Log(absl::StrCat("error: health rpc failed: rpc error: code = ",
                       GoCodeName(status.error_code()), " desc = ", status.error_message()));
    }
    return kRpcFailure;
  }
  if (o.verbose) {
    Log(absl::StrCat("time elapsed: connect=", FormatGoDuration(connect_time),
                     " rpc=", FormatGoDuration(rpc_time)));
  }
  const std::string name = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
  if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    Log(absl::StrCat("service unhealthy (responded with \"", name, "\")"));
    return kUnhealthy;
  }
  Log("status: " + name);
  return kHealthy;
}

// ---------------------------------------------------------------- http mode

int RunHttp(const Options& o) {
  if (o.url.empty()) return BadArguments("error: -url not specified");
  if (o.timeout <= absl::ZeroDuration()) {
    return BadArguments(absl::StrCat("error: -timeout must be greater than zero (specified: ",
                                     FormatGoDuration(o.timeout), ")"));
  }
  absl::StatusOr<HttpUrl> url = ParseHttpUrl(o.url);
  if (!url.ok()) return BadArguments(absl::StrCat("error: -url: ", url.status().message()));
  const absl::Time start = absl::Now();
  const HttpGetResult r =
      HttpGet(*url, o.timeout, o.user_agent.empty() ? kDefaultUserAgent : o.user_agent);
  if (o.verbose) Log(absl::StrCat("time elapsed: ", FormatGoDuration(absl::Now() - start)));
  using Outcome = HttpGetResult::Outcome;
  switch (r.outcome) {
    case Outcome::kConnectFailed:
      Log(absl::StrCat("error: failed to connect to \"", o.url, "\": ", r.error));
      return kConnectionFailure;
    case Outcome::kConnectTimeout:
      Log(absl::StrCat("timeout: failed to connect to \"", o.url, "\" within ",
                       FormatGoDuration(o.timeout)));
      return kConnectionFailure;
    case Outcome::kReplyTimeout:
      Log(absl::StrCat("timeout: http request did not complete within ",
                       FormatGoDuration(o.timeout)));
      return kRpcFailure;
    case Outcome::kRequestFailed:
      Log(absl::StrCat("error: http request failed: ", r.error));
      return kRpcFailure;
    case Outcome::kReply:
      break;
  }
  if (r.status_code != 200) {
    Log(absl::StrCat("service unhealthy (responded with \"", r.status_line, "\")"));
    return kUnhealthy;
  }
  Log("status: " + r.status_line);
  return kHealthy;
}

// --------------------------------------------------------------- ports mode

int RunPorts(const Options& o) {
  if (o.timeout <= absl::ZeroDuration()) {
    return BadArguments(absl::StrCat("error: -timeout must be greater than zero (specified: ",
                                     FormatGoDuration(o.timeout), ")"));
  }
  if (o.host.empty()) return BadArguments("error: -host must not be empty");
  std::vector<int> ports;
  for (absl::string_view part : absl::StrSplit(o.ports, ',', absl::SkipWhitespace())) {
    int port = 0;
    if (!absl::SimpleAtoi(part, &port) || port < 1 || port > 65535) {
      return BadArguments(absl::StrCat("error: -ports: \"", part, "\" is not a port (1..65535)"));
    }
    for (int p : ports) {
      if (p == port) return BadArguments(absl::StrCat("error: -ports: ", port, " is listed twice"));
    }
    ports.push_back(port);
  }
  if (ports.empty()) return BadArguments("error: -ports: no ports given");
  absl::StatusOr<KOfNRule> rule = KOfNRule::Create(
      static_cast<int>(ports.size()),
      o.min_healthy == 0 ? std::nullopt : std::optional<int>(o.min_healthy));
  if (!rule.ok()) return BadArguments(absl::StrCat("error: -min-healthy: ", rule.status().message()));

  ProbeOptions probe_options;
  probe_options.timeout = o.timeout;
  probe_options.deep_check = !o.describe_path.empty();
  if (!o.user_agent.empty()) probe_options.user_agent = o.user_agent;
  std::string path = o.describe_path;
  if (!path.empty() && path[0] == '/') path.erase(0, 1);
  std::vector<ProbeTarget> targets;
  for (int port : ports) targets.push_back(ProbeTarget{o.host, port, path});
  const std::vector<ProbeResult> results = RtspProber(probe_options).ProbeAll(targets);

  int open = 0;
  std::vector<std::string> entries;
  for (size_t i = 0; i < results.size(); ++i) {
    const ProbeResult& r = results[i];
    if (r.ok) {
      ++open;
      entries.push_back(absl::StrFormat("{\"port\":%d,\"ok\":true,\"latency_ms\":%.3f}", ports[i],
                                        absl::ToDoubleMilliseconds(r.latency)));
    } else {
      entries.push_back(absl::StrFormat("{\"port\":%d,\"ok\":false,\"failure\":%s,\"error\":%s}",
                                        ports[i], Quote(ProbeFailureName(r.failure)),
                                        Quote(r.error)));
      if (o.verbose) Log(r.reason);
    }
  }
  const bool healthy = rule->Evaluate(open);
  std::printf("{\"status\":\"%s\",\"open_ports\":%d,\"total_ports\":%zu,\"min_healthy\":%d,"
              "\"ports\":[%s]}\n",
              healthy ? "healthy" : "unhealthy", open, ports.size(), rule->k(),
              absl::StrJoin(entries, ",").c_str());
  std::fflush(stdout);
  return healthy ? kHealthy : kUnhealthy;
}

int Main(int argc, char** argv) {
  Options o;
  GoFlags flags;
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
    std::printf("%s\n", kVersion);
    return kHealthy;
  }
  if (o.mode != "grpc" && o.mode != "http" && o.mode != "ports") {
    return BadArguments(
        absl::StrCat("error: -mode=", o.mode, ": must be grpc, http or ports"));
  }
  static const std::set<std::string> kCommon = {"mode", "user-agent", "v", "version"};
  const std::set<std::string>& allowed = ModeFlags(o.mode);
  for (const std::string& name : flags.set_flags()) {
    if (kCommon.count(name) == 0 && allowed.count(name) == 0) {
      return BadArguments(
          absl::StrCat("error: flag -", name, " is not valid with -mode=", o.mode));
    }
  }
  if (o.mode == "http") return RunHttp(o);
  if (o.mode == "ports") return RunPorts(o);
  return RunGrpc(o);
}

}  // namespace
}  // namespace rtsptest::health

// Exits without running destructors or gRPC's shutdown: by now the verdict is
// printed, and the process holds nothing that outlives it (no files written,
// sockets close with it). A normal return would join gRPC's executor and
// timer threads and tear down its global state, about a millisecond of every
// check for nothing.
int main(int argc, char** argv) {
  const int code = rtsptest::health::Main(argc, argv);
  std::fflush(nullptr);
  std::_Exit(code);
}
