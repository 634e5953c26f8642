// health_probe -mode=grpc: see grpc_mode.h.
#include "tools/health_probe/grpc_mode.h"

#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/flags/go_flags.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace rtsptest::tools {
namespace {

// Go's codes.Code.String(), so error lines read like grpc_health_probe's.
std::string GoCodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
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
std::optional<std::string> TlsFlagError(const CliOptions& o) {
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

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> BuildCredentials(const CliOptions& o) {
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

}  // namespace

int RunGrpc(const CliOptions& o) {
  if (o.addr.empty()) return BadArguments("error: -addr not specified");
  if (o.connect_timeout <= absl::ZeroDuration()) {
    return BadArguments(
        absl::StrCat("error: -connect-timeout must be greater than zero (specified: ",
                     common::FormatGoDuration(o.connect_timeout), ")"));
  }
  if (o.rpc_timeout <= absl::ZeroDuration()) {
    return BadArguments(absl::StrCat("error: -rpc-timeout must be greater than zero (specified: ",
                                     common::FormatGoDuration(o.rpc_timeout), ")"));
  }
  if (std::optional<std::string> error = TlsFlagError(o)) return BadArguments("error: " + *error);
  std::vector<std::pair<std::string, std::string>> headers;
  for (const std::string& h : o.rpc_headers) {
    const size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      return BadArguments(
          absl::StrCat("error: invalid -rpc-header, expected 'key: value', got \"", h, "\""));
    }
    // gRPC metadata keys are lowercase (Go lowercases them too).
    headers.emplace_back(absl::AsciiStrToLower(absl::StripAsciiWhitespace(h.substr(0, colon))),
                         std::string(absl::StripAsciiWhitespace(h.substr(colon + 1))));
  }
  const std::string user_agent = o.user_agent.empty() ? "grpc_health_probe" : o.user_agent;
  if (o.verbose) {
    PrintLine("parsed options:");
    PrintLine(absl::StrCat("> addr=", o.addr,
                           " conn_timeout=", common::FormatGoDuration(o.connect_timeout),
                           " rpc_timeout=", common::FormatGoDuration(o.rpc_timeout)));
    if (!headers.empty()) {
      PrintLine("> headers: " + absl::StrJoin(headers, ", ", absl::PairFormatter(": ")));
    }
    PrintLine(absl::StrCat("> tls=", o.tls ? "true" : "false"));
    if (o.tls) {
      PrintLine(absl::StrCat("  > no-verify=", o.tls_no_verify ? "true" : "false"));
      PrintLine("  > ca-cert=" + o.tls_ca_cert);
      PrintLine("  > client-cert=" + o.tls_client_cert);
      PrintLine("  > client-key=" + o.tls_client_key);
      PrintLine("  > server-name=" + o.tls_server_name);
    }
    PrintLine("establishing connection");
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
      PrintLine(absl::StrCat("error: failed to connect service at \"", o.addr,
                             "\": connection failed (refused, unreachable or handshake error)"));
      return kConnectionFailure;
    }
    if (!channel->WaitForStateChange(state, deadline)) {
      PrintLine(absl::StrCat("timeout: failed to connect service \"", o.addr, "\" within ",
                             common::FormatGoDuration(o.connect_timeout)));
      return kConnectionFailure;
    }
  }
  const absl::Duration connect_time = absl::Now() - connect_start;
  if (o.verbose)
    PrintLine(
        absl::StrCat("connection established (took ", common::FormatGoDuration(connect_time), ")"));

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
      PrintLine(
          "error: this server does not implement the grpc health protocol "
          "(grpc.health.v1.Health): " +
          status.error_message());
    } else if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      PrintLine("timeout: health rpc did not complete within " +
                common::FormatGoDuration(o.rpc_timeout));
    } else {
      PrintLine(absl::StrCat("error: health rpc failed: rpc error: code = ",
                             GoCodeName(status.error_code()), " desc = ", status.error_message()));
    }
    return kRpcFailure;
  }
  if (o.verbose) {
    PrintLine(absl::StrCat("time elapsed: connect=", common::FormatGoDuration(connect_time),
                           " rpc=", common::FormatGoDuration(rpc_time)));
  }
  const std::string name =
      grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
  if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    PrintLine(absl::StrCat("service unhealthy (responded with \"", name, "\")"));
    return kUnhealthy;
  }
  PrintLine("status: " + name);
  return kHealthy;
}

}  // namespace rtsptest::tools
