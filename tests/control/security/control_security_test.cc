// The control port's security, end to end: the real rtsp_test_server with
// a bearer token, TLS and mTLS, reached by real gRPC clients, health_probe
// and its own embedded HTTP gateway. Certificates (a CA, a server
// certificate for 127.0.0.1/localhost, a client certificate) are made with
// the openssl CLI in $TEST_TMPDIR.
#include <arpa/inet.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "rtsptest/control/v1/control.grpc.pb.h"
#include "tests/e2e/server_process.h"

namespace rtsptest::testing {
namespace {

constexpr char kConfig[] = R"yaml(
listeners:
  - {name: a, port: 0, bind_address: 127.0.0.1}
control: {bind_address: 127.0.0.1}
health: {probe_interval: 200ms, probe_timeout: 1s}
drain_timeout: 0s
)yaml";

constexpr char kToken[] = "s3cr3t-t0ken-4d9f1c";
constexpr char kDeleteStream[] = "/rtsptest.control.v1.ControlService/DeleteStream";
constexpr absl::Duration kRpcTimeout = absl::Seconds(5);

std::string Tmp(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs `command` through the shell; its exit code.
int RunShell(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class ControlSecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(RunShell("openssl version >/dev/null 2>&1"), 0) << "the openssl CLI is not installed";
    const std::string dir = std::getenv("TEST_TMPDIR");
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string script =
        absl::StrCat("set -e; cd ", dir, "; ", "openssl req -x509 ", key,
                     " -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca; ", "openssl req ", key,
                     " -keyout server.key -out server.csr -subj /CN=localhost; ",
                     "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext; ",
                     "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial ",
                     "-out server.pem -days 2 -extfile san.ext; ", "openssl req ", key,
                     " -keyout client.key -out client.csr -subj /CN=client; ",
                     "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial ",
                     "-out client.pem -days 2; ", "printf '%s\\n' '", kToken, "' > token.txt");
    ASSERT_EQ(RunShell(absl::StrCat("(", script, ") >", dir, "/openssl.log 2>&1")), 0)
        << ReadAll(Tmp("openssl.log"));
  }

  static std::vector<std::string> TlsFlags(bool mtls) {
    std::vector<std::string> flags = {"--control_tls_cert=" + Tmp("server.pem"),
                                      "--control_tls_key=" + Tmp("server.key")};
    if (mtls) flags.push_back("--control_tls_client_ca=" + Tmp("ca.pem"));
    return flags;
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", server_.grpc_port()); }

  static std::shared_ptr<grpc::ChannelCredentials> TlsCredentials(bool client_cert) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadAll(Tmp("ca.pem"));
    if (client_cert) {
      options.pem_cert_chain = ReadAll(Tmp("client.pem"));
      options.pem_private_key = ReadAll(Tmp("client.key"));
    }
    return grpc::SslCredentials(options);
  }

  std::shared_ptr<grpc::Channel> Channel(std::shared_ptr<grpc::ChannelCredentials> credentials) {
    return grpc::CreateChannel(address(), credentials);
  }

  // grpc.health.v1 Check of the overall name "", retried until SERVING or
  // the deadline (the first probe round may still be running).
  static grpc::Status CheckServing(const std::shared_ptr<grpc::Channel>& channel,
                                   absl::Duration budget = absl::Seconds(10)) {
    auto stub = grpc::health::v1::Health::NewStub(channel);
    absl::Time deadline = absl::Now() + budget;
    while (true) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + kRpcTimeout));
      grpc::health::v1::HealthCheckRequest request;
      grpc::health::v1::HealthCheckResponse response;
      grpc::Status status = stub->Check(&context, request, &response);
      if (!status.ok()) return status;
      if (response.status() == grpc::health::v1::HealthCheckResponse::SERVING) return status;
      if (absl::Now() > deadline) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "never SERVING");
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  }

  // A unary call of `method` with a serialized request, with
  // `authorization` unless empty.
  static grpc::Status CallRaw(const std::shared_ptr<grpc::Channel>& channel,
                              const std::string& method, const std::string& bytes,
                              const std::string& authorization) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::GenericStub stub(channel);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kRpcTimeout));
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    absl::Mutex mu;
    bool done = false;
    grpc::Status result;
    stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                   [&](grpc::Status status) {
                     absl::MutexLock lock(&mu);
                     result = status;
                     done = true;
                   });
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(&done));
    return result;
  }

  // DeleteStream of a path that does not exist, with `authorization`
  // unless empty.
  static grpc::Status DeleteUnknown(const std::shared_ptr<grpc::Channel>& channel,
                                    const std::string& authorization) {
    control::v1::DeleteStreamRequest request;
    request.set_path("/no-such-stream");
    return CallRaw(channel, kDeleteStream, request.SerializeAsString(), authorization);
  }

  ServerProcess server_;
};

TEST_F(ControlSecurityTest, TokenGuardsMutatingRpcsOnly) {
  server_.SetEnv("RTSP_TEST_CONTROL_TOKEN", kToken);
  ASSERT_TRUE(server_.StartWithConfig(kConfig).ok()) << server_.output();
  auto channel = Channel(grpc::InsecureChannelCredentials());

  grpc::Status missing = DeleteUnknown(channel, "");
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::UNAUTHENTICATED) << missing.error_message();
  EXPECT_EQ(missing.error_message(), "missing bearer token");
  grpc::Status wrong = DeleteUnknown(channel, "Bearer not-the-token");
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::PERMISSION_DENIED) << wrong.error_message();
  EXPECT_EQ(wrong.error_message(), "wrong token");
  grpc::Status right = DeleteUnknown(channel, absl::StrCat("Bearer ", kToken));
  EXPECT_THAT(right.error_code(),
              ::testing::AnyOf(grpc::StatusCode::NOT_FOUND, grpc::StatusCode::UNIMPLEMENTED))
      << right.error_message();

  // Health and the read-only RPCs need no token.
  grpc::Status health = CheckServing(channel);
  EXPECT_TRUE(health.ok()) << health.error_message();
  auto control = control::v1::ControlService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kRpcTimeout));
  control::v1::HealthReport report;
  grpc::Status read = control->GetHealthReport(&context, {}, &report);
  EXPECT_TRUE(read.ok()) << read.error_message();
  EXPECT_FALSE(absl::StrContains(report.SerializeAsString(), kToken));

  ASSERT_TRUE(server_.Stop(SIGTERM).ok());
  EXPECT_FALSE(absl::StrContains(server_.output(), kToken)) << server_.output();
  EXPECT_FALSE(absl::StrContains(server_.output(), "control API open"));
}

// Every ControlService method, including ones added after this test was
// written, needs the token unless it only reads (Get*, List*, Watch*).
TEST_F(ControlSecurityTest, EveryMethodThatIsNotAReadNeedsTheToken) {
  server_.SetEnv("RTSP_TEST_CONTROL_TOKEN", kToken);
  ASSERT_TRUE(server_.StartWithConfig(kConfig).ok()) << server_.output();
  auto channel = Channel(grpc::InsecureChannelCredentials());
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          "rtsptest.control.v1.ControlService");
  ASSERT_NE(service, nullptr);
  int guarded = 0;
  for (int i = 0; i < service->method_count(); ++i) {
    const google::protobuf::MethodDescriptor* method = service->method(i);
    if (method->client_streaming() || method->server_streaming()) continue;
    const std::string name = method->name();
    const std::string full = absl::StrCat("/", service->full_name(), "/", name);
    const bool reads = absl::StartsWith(name, "Get") || absl::StartsWith(name, "List") ||
                       absl::StartsWith(name, "Watch");
    const grpc::Status status = CallRaw(channel, full, "", "");
    if (reads) {
      EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << full;
      EXPECT_NE(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << full;
    } else {
      ++guarded;
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << full << ": " << status.error_message();
    }
  }
  EXPECT_GE(guarded, 4);  // Create, Update, Delete and Apply at least
}

TEST_F(ControlSecurityTest, TokenFromFileAndFlagIsNeverLogged) {
  ASSERT_TRUE(server_
                  .StartWithConfig(
                      kConfig, {"--control_token_file=" + Tmp("token.txt"), "--log_level=debug"})
                  .ok())
      << server_.output();
  auto channel = Channel(grpc::InsecureChannelCredentials());
  EXPECT_EQ(DeleteUnknown(channel, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // The trailing newline of the file is not part of the token.
  EXPECT_THAT(DeleteUnknown(channel, absl::StrCat("Bearer ", kToken)).error_code(),
              ::testing::AnyOf(grpc::StatusCode::NOT_FOUND, grpc::StatusCode::UNIMPLEMENTED));
  ASSERT_TRUE(server_.Stop(SIGTERM).ok());
  EXPECT_FALSE(absl::StrContains(server_.output(), kToken)) << server_.output();
}

TEST_F(ControlSecurityTest, NoTokenWarnsAtStart) {
  ASSERT_TRUE(server_.StartWithConfig(kConfig).ok()) << server_.output();
  EXPECT_TRUE(server_.WaitForOutput("control API open: no token set", absl::Seconds(5)))
      << server_.output();
}

TEST_F(ControlSecurityTest, EmptyOrMissingTokenFileIsAConfigError) {
  const std::string empty = Tmp("empty.token");
  std::ofstream(empty).close();
  for (const std::string& file : {empty, Tmp("missing.token")}) {
    ServerProcess server;
    EXPECT_FALSE(server.StartWithConfig(kConfig, {"--control_token_file=" + file}).ok());
    absl::StatusOr<int> code = server.WaitForExit(absl::Seconds(10));
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(*code, 2) << server.output();
    EXPECT_TRUE(absl::StrContains(server.error_output(), file)) << server.error_output();
  }
}

TEST_F(ControlSecurityTest, MissingTlsFileIsAConfigErrorNamingIt) {
  ServerProcess server;
  const std::string missing = Tmp("missing.pem");
  EXPECT_FALSE(server
                   .StartWithConfig(kConfig, {"--control_tls_cert=" + missing,
                                              "--control_tls_key=" + Tmp("server.key")})
                   .ok());
  absl::StatusOr<int> code = server.WaitForExit(absl::Seconds(10));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 2) << server.output();
  EXPECT_TRUE(absl::StrContains(server.error_output(), missing)) << server.error_output();
}

TEST_F(ControlSecurityTest, TlsRefusesPlaintextAndServesTlsClients) {
  ASSERT_TRUE(server_.StartWithConfig(kConfig, TlsFlags(/*mtls=*/false)).ok()) << server_.output();
  EXPECT_FALSE(CheckServing(Channel(grpc::InsecureChannelCredentials()), absl::Seconds(1)).ok());
  grpc::Status tls = CheckServing(Channel(TlsCredentials(/*client_cert=*/false)));
  EXPECT_TRUE(tls.ok()) << tls.error_message();
}

TEST_F(ControlSecurityTest, MtlsRequiresAClientCertificate) {
  ASSERT_TRUE(server_.StartWithConfig(kConfig, TlsFlags(/*mtls=*/true)).ok()) << server_.output();
  EXPECT_FALSE(CheckServing(Channel(TlsCredentials(/*client_cert=*/false)), absl::Seconds(1)).ok());
  grpc::Status mtls = CheckServing(Channel(TlsCredentials(/*client_cert=*/true)));
  EXPECT_TRUE(mtls.ok()) << mtls.error_message();
}

TEST_F(ControlSecurityTest, HealthProbeTlsFlagsWork) {
  ASSERT_TRUE(server_.StartWithConfig(kConfig, TlsFlags(/*mtls=*/true)).ok()) << server_.output();
  ASSERT_TRUE(CheckServing(Channel(TlsCredentials(/*client_cert=*/true))).ok());
  const std::string probe =
      absl::StrCat(RunfilePath("tools/health_probe/health_probe"), " -addr=", address(),
                   " -connect-timeout=3s -rpc-timeout=3s");
  const std::string tls =
      absl::StrCat(" -tls -tls-ca-cert=", Tmp("ca.pem"), " -tls-server-name=localhost");
  const std::string client =
      absl::StrCat(" -tls-client-cert=", Tmp("client.pem"), " -tls-client-key=", Tmp("client.key"));
  const std::string quiet = " >/dev/null 2>&1";
  EXPECT_EQ(RunShell(probe + tls + client + quiet), 0);
  EXPECT_NE(RunShell(probe + tls + quiet), 0);  // mTLS: no client certificate
  EXPECT_NE(RunShell(probe + quiet), 0);        // plaintext
}

TEST_F(ControlSecurityTest, HealthProbeTlsWithoutClientCertificate) {
  ASSERT_TRUE(server_.StartWithConfig(kConfig, TlsFlags(/*mtls=*/false)).ok()) << server_.output();
  ASSERT_TRUE(CheckServing(Channel(TlsCredentials(/*client_cert=*/false))).ok());
  const std::string probe =
      absl::StrCat(RunfilePath("tools/health_probe/health_probe"), " -addr=", address(),
                   " -connect-timeout=3s -rpc-timeout=3s");
  EXPECT_EQ(RunShell(absl::StrCat(probe, " -tls -tls-ca-cert=", Tmp("ca.pem"),
                                  " -tls-server-name=localhost >/dev/null 2>&1")),
            0);
}

// GET `path` from 127.0.0.1:`port`; the status code, 0 on failure.
int HttpStatus(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return 0;
  }
  std::string request =
      absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  (void)!write(fd, request.data(), request.size());
  char buffer[64] = {};
  ssize_t n = read(fd, buffer, sizeof(buffer) - 1);
  close(fd);
  int code = 0;
  if (n > 12 && std::sscanf(buffer, "HTTP/1.%*d %d", &code) == 1) return code;
  return 0;
}

TEST_F(ControlSecurityTest, EmbeddedGatewayFollowsOverMtls) {
  std::vector<std::string> flags = TlsFlags(/*mtls=*/true);
  flags.push_back("--http_port=0");
  ASSERT_TRUE(server_.StartWithConfig(kConfig, flags).ok()) << server_.output();
  ASSERT_TRUE(server_.WaitForOutput("\"msg\":\"http gateway serving\"", absl::Seconds(10)))
      << server_.output();
  int code = 0;
  for (absl::Time deadline = absl::Now() + absl::Seconds(15); absl::Now() < deadline;) {
    code = HttpStatus(server_.http_port(), "/health");
    if (code == 200) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(code, 200) << server_.output();
}

// A port nobody listens on right now (the kernel's pick, released).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t size = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(ControlSecurityTest, StandaloneGatewayFollowsOverMtls) {
  ASSERT_TRUE(server_.StartWithConfig(kConfig, TlsFlags(/*mtls=*/true)).ok()) << server_.output();
  const int http_port = FreePort();
  std::vector<std::string> args = {RunfilePath("gateway/health_gateway"),
                                   absl::StrCat("--http_port=", http_port),
                                   "--bind=127.0.0.1",
                                   "--grpc_addr=" + address(),
                                   "--grpc_tls_ca=" + Tmp("ca.pem"),
                                   "--grpc_tls_server_name=localhost",
                                   "--grpc_tls_cert=" + Tmp("client.pem"),
                                   "--grpc_tls_key=" + Tmp("client.key")};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  int code = 0;
  for (absl::Time deadline = absl::Now() + absl::Seconds(15); absl::Now() < deadline;) {
    code = HttpStatus(http_port, "/health");
    if (code == 200) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(code, 200);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
}

}  // namespace
}  // namespace rtsptest::testing
