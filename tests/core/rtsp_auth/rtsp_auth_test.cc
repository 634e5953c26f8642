// Per-stream RTSP authentication end to end: the real rtsp_test_server with
// basic, digest and open streams side by side, real clients (ffprobe, which
// answers basic and digest challenges, and raw RTSP requests on a socket)
// and the real gRPC API. Passwords never show in the server's log or in
// API answers.
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rtsptest/control/v1/control.grpc.pb.h"
#include "tests/e2e/server_process.h"
#include "tests/util/loopback.h"
#include "tests/util/subprocess.h"

namespace rtsptest::testing {
namespace {

namespace v1 = ::rtsptest::control::v1;
using config::v1::Stream;
using config::v1::StreamAuth;

constexpr absl::Duration kRpcTimeout = absl::Seconds(20);

// Passwords distinctive enough to grep for.
constexpr char kBasicPassword[] = "Basic-Pw-7f3a9c";
constexpr char kDigestPassword[] = "Digest-Pw-52e1d0";
constexpr char kApiPassword[] = "Api-Pw-0b8e44";
constexpr char kOtherPassword[] = "Other-Pw-9d1c27";

constexpr char kConfig[] = R"yaml(
listeners:
  - {name: lo, bind_address: 127.0.0.1, port: 0}
streams:
  - path: /open
    plugin: testpattern
    parameters: {width: 160, height: 120, fps: 10, codec: h264, overlay: false, gop: 10}
  - path: /basic
    plugin: testpattern
    parameters: {width: 160, height: 120, fps: 10, codec: h264, overlay: false, gop: 10}
    auth: {method: BASIC, username: alice, password: Basic-Pw-7f3a9c}
  - path: /digest
    plugin: testpattern
    parameters: {width: 160, height: 120, fps: 10, codec: h264, overlay: false, gop: 10}
    auth: {method: DIGEST, username: bob, password: Digest-Pw-52e1d0}
logging: {level: debug}
health: {deep_check: true, probe_interval: 200ms}
drain_timeout: 0s
)yaml";

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + kRpcTimeout));
  return context;
}

Stream Tiny(const std::string& path) {
  Stream stream;
  stream.set_path(path);
  stream.set_plugin("testpattern");
  auto& p = *stream.mutable_parameters();
  p["width"] = "160";
  p["height"] = "120";
  p["fps"] = "10";
  p["codec"] = "h264";
  p["overlay"] = "false";
  p["gop"] = "10";
  return stream;
}

class RtspAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    absl::Status started = server_->StartWithConfig(kConfig);
    ASSERT_TRUE(started.ok()) << started << "\n" << server_->output();
    stub_ = v1::ControlService::NewStub(
                grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->grpc_port()),
                                    grpc::InsecureChannelCredentials()))
                .release();
  }
  static void TearDownTestSuite() {
    delete stub_;
    delete server_;
  }

  // ffprobe with the credentials in the URL (it answers basic and digest
  // challenges): its exit code and output.
  static std::pair<std::string, int> Probe(const std::string& path,
                                           const std::string& credentials = "") {
    const std::string url = absl::StrCat("rtsp://", credentials.empty() ? "" : credentials + "@",
                                         "127.0.0.1:", server_->port("lo"), path);
    return RunShell(
        absl::StrCat("timeout 30 /usr/bin/ffprobe -v error -rtsp_transport tcp -select_streams v:0 "
                     "-show_entries stream=codec_name -of default=noprint_wrappers=1 '",
                     url, "' 2>&1"));
  }
  static bool Plays(const std::string& path, const std::string& credentials = "") {
    auto [out, code] = Probe(path, credentials);
    return code == 0 && absl::StrContains(out, "codec_name=h264");
  }

  // One raw DESCRIBE with `extra` header lines; the response head.
  static std::string RawDescribe(const std::string& path, const std::string& extra = "") {
    int fd = ConnectLoopback(server_->port("lo"));
    if (fd < 0) return "connect failed";
    const std::string request = absl::StrCat("DESCRIBE rtsp://127.0.0.1:", server_->port("lo"),
                                             path, " RTSP/1.0\r\nCSeq: 1\r\n", extra, "\r\n");
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
      close(fd);
      return "send failed";
    }
    struct timeval timeout = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    std::string response;
    char buffer[4096];
    while (!absl::StrContains(response, "\r\n\r\n")) {
      ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      response.append(buffer, static_cast<size_t>(n));
    }
    close(fd);
    return response.substr(0, response.find("\r\n\r\n"));
  }
  static std::string Basic(const std::string& user, const std::string& password) {
    return absl::StrCat("Authorization: Basic ", absl::Base64Escape(user + ":" + password), "\r\n");
  }

  static grpc::Status Create(const Stream& stream, v1::StreamStatus* out = nullptr) {
    v1::CreateStreamRequest request;
    *request.mutable_stream() = stream;
    v1::StreamStatus response;
    grpc::Status status = stub_->CreateStream(Context().get(), request, &response);
    if (out != nullptr) *out = response;
    return status;
  }

  static ServerProcess* server_;
  static v1::ControlService::Stub* stub_;
};

ServerProcess* RtspAuthTest::server_ = nullptr;
v1::ControlService::Stub* RtspAuthTest::stub_ = nullptr;

TEST_F(RtspAuthTest, BasicStreamChallengesWithBasicOnlyAndPlaysWithTheRightPassword) {
  const std::string none = RawDescribe("/basic");
  EXPECT_TRUE(absl::StartsWith(none, "RTSP/1.0 401")) << none;
  EXPECT_TRUE(absl::StrContains(none, "WWW-Authenticate: Basic realm=")) << none;
  EXPECT_FALSE(absl::StrContains(none, "Digest")) << none;
  const std::string wrong = RawDescribe("/basic", Basic("alice", "wrong"));
  EXPECT_TRUE(absl::StartsWith(wrong, "RTSP/1.0 401")) << wrong;
  const std::string right = RawDescribe("/basic", Basic("alice", kBasicPassword));
  EXPECT_TRUE(absl::StartsWith(right, "RTSP/1.0 200")) << right;

  EXPECT_FALSE(Plays("/basic"));
  auto [out, code] = Probe("/basic", "alice:wrong");
  EXPECT_NE(code, 0);
  EXPECT_TRUE(absl::StrContains(out, "401")) << out;
  EXPECT_TRUE(Plays("/basic", absl::StrCat("alice:", kBasicPassword)));
}

TEST_F(RtspAuthTest, DigestStreamChallengesWithDigestOnlyAndPlaysWithTheRightPassword) {
  const std::string none = RawDescribe("/digest");
  EXPECT_TRUE(absl::StartsWith(none, "RTSP/1.0 401")) << none;
  EXPECT_TRUE(absl::StrContains(none, "WWW-Authenticate: Digest realm=")) << none;
  EXPECT_TRUE(absl::StrContains(none, "nonce=")) << none;
  EXPECT_FALSE(absl::StrContains(none, "Basic")) << none;
  // The right password sent in clear (basic) does not open a digest stream.
  const std::string basic = RawDescribe("/digest", Basic("bob", kDigestPassword));
  EXPECT_TRUE(absl::StartsWith(basic, "RTSP/1.0 401")) << basic;

  EXPECT_FALSE(Plays("/digest"));
  auto [out, code] = Probe("/digest", "bob:wrong");
  EXPECT_NE(code, 0);
  EXPECT_TRUE(absl::StrContains(out, "401")) << out;
  EXPECT_TRUE(Plays("/digest", absl::StrCat("bob:", kDigestPassword)));
}

TEST_F(RtspAuthTest, OpenStreamPlaysAnonymouslyAndWithAnyCredentials) {
  EXPECT_TRUE(absl::StartsWith(RawDescribe("/open"), "RTSP/1.0 200"));
  EXPECT_TRUE(Plays("/open"));
  // A client that sends another stream's credentials everywhere still gets in.
  EXPECT_TRUE(
      absl::StartsWith(RawDescribe("/open", Basic("alice", kBasicPassword)), "RTSP/1.0 200"));
  EXPECT_TRUE(absl::StartsWith(RawDescribe("/nosuch"), "RTSP/1.0 404"));
}

TEST_F(RtspAuthTest, OneStreamsPasswordDoesNotOpenAnotherWithTheSameUser) {
  Stream other = Tiny("/basic-other");
  other.mutable_auth()->set_method(StreamAuth::BASIC);
  other.mutable_auth()->set_username("alice");
  other.mutable_auth()->set_password(kOtherPassword);
  grpc::Status status = Create(other);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(absl::StartsWith(RawDescribe("/basic-other", Basic("alice", kBasicPassword)),
                               "RTSP/1.0 401"));
  EXPECT_TRUE(
      absl::StartsWith(RawDescribe("/basic", Basic("alice", kOtherPassword)), "RTSP/1.0 401"));
  EXPECT_TRUE(absl::StartsWith(RawDescribe("/basic-other", Basic("alice", kOtherPassword)),
                               "RTSP/1.0 200"));
  EXPECT_TRUE(
      absl::StartsWith(RawDescribe("/basic", Basic("alice", kBasicPassword)), "RTSP/1.0 200"));
}

TEST_F(RtspAuthTest, DigestUserOfAnotherStreamWithAnotherPasswordIsRefused) {
  Stream clash = Tiny("/digest-clash");
  clash.mutable_auth()->set_method(StreamAuth::DIGEST);
  clash.mutable_auth()->set_username("bob");
  clash.mutable_auth()->set_password(kOtherPassword);
  grpc::Status status = Create(clash);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "/digest")) << status.error_message();
  EXPECT_FALSE(absl::StrContains(status.error_message(), kOtherPassword));
  // bob keeps his password on /digest.
  EXPECT_TRUE(Plays("/digest", absl::StrCat("bob:", kDigestPassword)));
  // The same user with the same password is the same credentials: allowed.
  Stream same = Tiny("/digest-same");
  *same.mutable_auth() = clash.auth();
  same.mutable_auth()->set_password(kDigestPassword);
  status = Create(same);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(RtspAuthTest, ApiCreatedProtectedStreamUpdateAndDeleteChangeItsCredentials) {
  Stream spec = Tiny("/api-auth");
  spec.mutable_auth()->set_method(StreamAuth::BASIC);
  spec.mutable_auth()->set_username("carol");
  spec.mutable_auth()->set_password(kApiPassword);
  v1::StreamStatus created;
  grpc::Status status = Create(spec, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(
      absl::StartsWith(RawDescribe("/api-auth", Basic("carol", kApiPassword)), "RTSP/1.0 200"));
  // Update to open: anonymous readers get in, and carol's password is gone.
  v1::UpdateStreamRequest update;
  update.mutable_stream()->set_path("/api-auth");
  update.mutable_update_mask()->add_paths("auth");
  v1::StreamStatus updated;
  status = stub_->UpdateStream(Context().get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(updated.spec().has_auth());
  EXPECT_TRUE(absl::StartsWith(RawDescribe("/api-auth"), "RTSP/1.0 200"));
  v1::DeleteStreamRequest request;
  request.set_path("/api-auth");
  v1::DeleteStreamResponse response;
  ASSERT_TRUE(stub_->DeleteStream(Context().get(), request, &response).ok());
}

TEST_F(RtspAuthTest, ApiAnswersKeepMethodAndUserButNeverThePassword) {
  Stream spec = Tiny("/api-redacted");
  spec.mutable_auth()->set_method(StreamAuth::DIGEST);
  spec.mutable_auth()->set_username("dave");
  spec.mutable_auth()->set_password(kApiPassword);
  v1::StreamStatus created;
  ASSERT_TRUE(Create(spec, &created).ok());
  EXPECT_EQ(created.spec().auth().method(), StreamAuth::DIGEST);
  EXPECT_EQ(created.spec().auth().username(), "dave");
  EXPECT_EQ(created.spec().auth().password(), "");

  v1::GetStreamRequest get;
  get.set_path("/basic");
  v1::StreamStatus got;
  ASSERT_TRUE(stub_->GetStream(Context().get(), get, &got).ok());
  EXPECT_EQ(got.spec().auth().method(), StreamAuth::BASIC);
  EXPECT_EQ(got.spec().auth().username(), "alice");
  EXPECT_EQ(got.spec().auth().password(), "");

  v1::ListStreamsRequest list;
  v1::ListStreamsResponse listed;
  ASSERT_TRUE(stub_->ListStreams(Context().get(), list, &listed).ok());
  v1::GetHealthReportRequest health;
  v1::HealthReport report;
  ASSERT_TRUE(stub_->GetHealthReport(Context().get(), health, &report).ok());
  for (const std::string& text :
       {listed.SerializeAsString(), listed.DebugString(), report.SerializeAsString(),
        report.DebugString(), created.SerializeAsString(), got.SerializeAsString()}) {
    for (const char* password : {kBasicPassword, kDigestPassword, kApiPassword, kOtherPassword}) {
      EXPECT_FALSE(absl::StrContains(text, password)) << password;
    }
  }
}

// The deep health probe DESCRIBEs an open stream, not /basic (first by
// path), which would answer 401 and mark the port down.
TEST_F(RtspAuthTest, DeepHealthProbeSkipsProtectedStreams) {
  v1::HealthReport report;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    report.Clear();
    v1::GetHealthReportRequest request;
    ASSERT_TRUE(stub_->GetHealthReport(Context().get(), request, &report).ok());
    if (report.first_round_done()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(report.first_round_done());
  EXPECT_EQ(report.healthy_listeners(), 1u) << report.DebugString();
  EXPECT_TRUE(report.serving()) << report.DebugString();
}

// Last in the file (gtest runs in order): every other test's requests,
// failed and successful, are in the log by now.
TEST_F(RtspAuthTest, ZzNoPasswordInTheServerLog) {
  ASSERT_TRUE(Plays("/basic", absl::StrCat("alice:", kBasicPassword)));
  ASSERT_TRUE(Plays("/digest", absl::StrCat("bob:", kDigestPassword)));
  const std::string output = server_->output();
  ASSERT_TRUE(absl::StrContains(output, "\"level\":\"debug\"")) << "debug logging is on";
  for (const char* password : {kBasicPassword, kDigestPassword, kApiPassword, kOtherPassword}) {
    EXPECT_FALSE(absl::StrContains(output, password)) << password;
    EXPECT_FALSE(absl::StrContains(output, absl::Base64Escape(absl::StrCat("alice:", password))))
        << password;
  }
}

}  // namespace
}  // namespace rtsptest::testing
