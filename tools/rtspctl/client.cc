// ControlClient and exit codes: see client.h.
#include "tools/rtspctl/client.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/flags/go_flags.h"

namespace rtsptest::tools {
namespace {

constexpr char kDefaultAddr[] = "127.0.0.1:50051";

absl::StatusOr<std::string> ReadFile(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--", flag, "=", path, ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return absl::StrCat("CODE_", static_cast<int>(code));
  }
}

}  // namespace

int ExitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    case grpc::StatusCode::ALREADY_EXISTS:
      return kExitAlreadyExists;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitInvalid;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return kExitDenied;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return kExitUnavailable;
    case grpc::StatusCode::UNIMPLEMENTED:
      return kExitNotSupported;
    default:
      return kExitError;
  }
}

int ReportRpcError(const grpc::Status& status) {
  std::string message = status.error_message();
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    message = absl::StrCat("not available in this server version (", message, ")");
  }
  std::cerr << "rtspctl: " << CodeName(status.error_code()) << ": " << message << "\n";
  return ExitCodeFor(status.error_code());
}

int ReportUsage(absl::string_view message) {
  std::cerr << "rtspctl: " << message << " (see rtspctl --help)\n";
  return kExitUsage;
}

absl::StatusOr<std::unique_ptr<ControlClient>> ControlClient::FromArgs(const Args& args) {
  auto client = std::unique_ptr<ControlClient>(new ControlClient());
  std::string env_addr = Env("RTSP_TEST_ADDR");
  std::string addr = args.Get("addr", env_addr.empty() ? kDefaultAddr : env_addr);
  client->token_ = args.Get("token", Env("RTSP_TEST_CONTROL_TOKEN"));
  absl::Duration timeout = absl::Seconds(5);
  if (absl::Status s = common::ParseGoDuration(args.Get("timeout", "5s"), &timeout); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--timeout: ", s.message()));
  }
  if (timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--timeout: must be positive");
  }
  client->timeout_ = timeout;

  std::shared_ptr<grpc::ChannelCredentials> credentials;
  grpc::ChannelArguments channel_args;
  // Listings and health reports of many streams may pass gRPC's 4 MiB.
  channel_args.SetMaxReceiveMessageSize(64 << 20);
  bool tls = args.Get("tls", "false") != "false" || args.Has("tls_ca") || args.Has("tls_cert");
  if (tls) {
    grpc::SslCredentialsOptions ssl;
    if (args.Has("tls_ca")) {
      absl::StatusOr<std::string> ca = ReadFile("tls_ca", args.Get("tls_ca"));
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
    }
    if (args.Has("tls_cert") != args.Has("tls_key")) {
      return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
    }
    if (args.Has("tls_cert")) {
      absl::StatusOr<std::string> cert = ReadFile("tls_cert", args.Get("tls_cert"));
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadFile("tls_key", args.Get("tls_key"));
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    if (args.Has("tls_server_name")) {
      channel_args.SetSslTargetNameOverride(args.Get("tls_server_name"));
    }
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  client->stub_ = control::v1::ControlService::NewStub(
      grpc::CreateCustomChannel(addr, credentials, channel_args));
  return client;
}

std::unique_ptr<grpc::ClientContext> ControlClient::NewContext() const {
  std::unique_ptr<grpc::ClientContext> context = NewStreamContext();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  return context;
}

std::unique_ptr<grpc::ClientContext> ControlClient::NewStreamContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token_.empty()) context->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  return context;
}

int PrepareCommand(const Args& args, const std::vector<std::string>& allowed, Command* command) {
  if (absl::Status s = args.CheckAllowed(allowed); !s.ok()) return ReportUsage(s.message());
  absl::StatusOr<OutputFormat> format = OutputFormatFromArgs(args);
  if (!format.ok()) return ReportUsage(format.status().message());
  absl::StatusOr<std::unique_ptr<ControlClient>> client = ControlClient::FromArgs(args);
  if (!client.ok()) return ReportUsage(client.status().message());
  command->format = *format;
  command->client = std::move(*client);
  return kExitOk;
}

}  // namespace rtsptest::tools
