// ListSessions and KickSessions end to end: the real rtsp_test_server, a
// real gRPC client and real RTSP readers (tools/rtsp_client), one over
// TCP-interleaved and one over UDP, on loopback. The API lists each reader
// with its transport, address and growing packet count, and a kick closes
// exactly the sessions it selects.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rtsptest/control/v1/control.grpc.pb.h"
#include "tests/e2e/server_process.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

namespace v1 = ::rtsptest::control::v1;
using ::testing::MatchesRegex;

constexpr absl::Duration kStep = absl::Seconds(10);

constexpr char kConfig[] = R"yaml(
listeners:
  - {name: lo, bind_address: 127.0.0.1, port: 0}
streams:
  - path: /a
    plugin: testpattern
    parameters: {codec: mjpeg, width: 160, height: 120, fps: 25, overlay: false}
drain_timeout: 0s
)yaml";

class SessionsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.StartWithConfig(kConfig).ok()) << server_.output();
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_.grpc_port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::ControlService::NewStub(channel_);
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + kStep));
    return context;
  }
  // A reader of /a, playing over `transport`, that has read media.
  std::unique_ptr<tools::RtspClient> Play(tools::Transport transport) {
    auto reader = std::make_unique<tools::RtspClient>(server_.url("lo", "/a"));
    EXPECT_TRUE(reader->Connect(kStep).ok());
    EXPECT_TRUE(reader->Describe(kStep).ok());
    EXPECT_TRUE(reader->SetupAll(transport, kStep).ok());
    EXPECT_TRUE(reader->Play(kStep).ok());
    absl::StatusOr<int64_t> read = reader->ReadMedia(absl::Milliseconds(300));
    EXPECT_TRUE(read.ok() && *read > 0) << read.status();
    return reader;
  }
  v1::ListSessionsResponse List(const std::string& stream) {
    v1::ListSessionsRequest request;
    request.set_stream(stream);
    v1::ListSessionsResponse response;
    grpc::Status status = stub_->ListSessions(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }
  grpc::Status Kick(const v1::KickSessionsRequest& request, v1::KickSessionsResponse* response) {
    return stub_->KickSessions(Context().get(), request, response);
  }
  // Reads until the server closes the connection (or 5 s pass); the status
  // of the last read: Unavailable once closed.
  static absl::Status ReadUntilClosed(tools::RtspClient& reader) {
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    absl::StatusOr<int64_t> read = int64_t{0};
    while (read.ok() && absl::Now() < deadline) read = reader.ReadMedia(absl::Milliseconds(200));
    return read.status();
  }

  ServerProcess server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ControlService::Stub> stub_;
};

// The session with `transport`, or an empty one.
v1::Session WithTransport(const v1::ListSessionsResponse& response, const std::string& transport) {
  for (const v1::Session& session : response.sessions()) {
    if (session.transport() == transport) return session;
  }
  return v1::Session();
}

TEST_F(SessionsApiTest, ListsTcpAndUdpReadersWithGrowingPacketCounts) {
  std::unique_ptr<tools::RtspClient> tcp = Play(tools::Transport::kTcpInterleaved);
  std::unique_ptr<tools::RtspClient> udp = Play(tools::Transport::kUdp);

  v1::ListSessionsResponse before = List("/a");
  ASSERT_EQ(before.sessions_size(), 2) << before.DebugString();
  v1::Session tcp_before = WithTransport(before, "tcp");
  v1::Session udp_before = WithTransport(before, "udp");
  EXPECT_EQ(tcp_before.id(), tcp->session());
  EXPECT_EQ(udp_before.id(), udp->session());
  for (const v1::Session& session : {tcp_before, udp_before}) {
    EXPECT_EQ(session.stream(), "/a");
    EXPECT_EQ(session.listener(), "lo");
    EXPECT_THAT(session.remote(), MatchesRegex("127\\.0\\.0\\.1:[0-9]+"));
    EXPECT_GT(session.since().seconds(), 0);
  }
  EXPECT_NE(tcp_before.remote(), udp_before.remote());  // two connections

  ASSERT_TRUE(tcp->ReadMedia(absl::Milliseconds(500)).ok());
  ASSERT_TRUE(udp->ReadMedia(absl::Milliseconds(500)).ok());
  v1::ListSessionsResponse after = List("");  // every stream's: the same two
  ASSERT_EQ(after.sessions_size(), 2) << after.DebugString();
  v1::Session tcp_after = WithTransport(after, "tcp");
  v1::Session udp_after = WithTransport(after, "udp");
  std::printf("packets_sent tcp %llu -> %llu, udp %llu -> %llu\n",
              static_cast<unsigned long long>(tcp_before.packets_sent()),
              static_cast<unsigned long long>(tcp_after.packets_sent()),
              static_cast<unsigned long long>(udp_before.packets_sent()),
              static_cast<unsigned long long>(udp_after.packets_sent()));
  EXPECT_GT(tcp_after.packets_sent(), tcp_before.packets_sent());
  EXPECT_GT(udp_after.packets_sent(), udp_before.packets_sent());
  EXPECT_GT(tcp_after.bytes_sent(), tcp_before.bytes_sent());
  EXPECT_GT(udp_after.bytes_sent(), udp_before.bytes_sent());
}

TEST_F(SessionsApiTest, ListSessionsOfAnUnknownStreamIsNotFound) {
  v1::ListSessionsRequest request;
  request.set_stream("/nope");
  v1::ListSessionsResponse response;
  grpc::Status status = stub_->ListSessions(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "stream /nope: no such stream");
}

// A kick by id closes that session only; a kick of the stream closes the
// rest and answers how many.
TEST_F(SessionsApiTest, KickBySessionIdClosesThatOneOnly) {
  std::unique_ptr<tools::RtspClient> tcp = Play(tools::Transport::kTcpInterleaved);
  std::unique_ptr<tools::RtspClient> udp = Play(tools::Transport::kUdp);

  v1::KickSessionsRequest by_id;
  by_id.set_session_id(tcp->session());
  v1::KickSessionsResponse response;
  ASSERT_TRUE(Kick(by_id, &response).ok());
  EXPECT_EQ(response.kicked(), 1u);
  EXPECT_EQ(ReadUntilClosed(*tcp).code(), absl::StatusCode::kUnavailable);
  absl::StatusOr<int64_t> still = udp->ReadMedia(absl::Seconds(1));
  ASSERT_TRUE(still.ok()) << still.status();
  EXPECT_GT(*still, 0);
  v1::ListSessionsResponse left = List("/a");
  ASSERT_EQ(left.sessions_size(), 1);
  EXPECT_EQ(left.sessions(0).id(), udp->session());

  v1::KickSessionsRequest by_stream;
  by_stream.set_stream("/a");
  ASSERT_TRUE(Kick(by_stream, &response).ok());
  EXPECT_EQ(response.kicked(), 1u);
  EXPECT_EQ(ReadUntilClosed(*udp).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(List("/a").sessions_size(), 0);
}

TEST_F(SessionsApiTest, KickOfAStreamCountsItsSessions) {
  std::unique_ptr<tools::RtspClient> first = Play(tools::Transport::kTcpInterleaved);
  std::unique_ptr<tools::RtspClient> second = Play(tools::Transport::kTcpInterleaved);
  std::unique_ptr<tools::RtspClient> third = Play(tools::Transport::kUdp);
  v1::KickSessionsRequest by_stream;
  by_stream.set_stream("/a");
  v1::KickSessionsResponse response;
  ASSERT_TRUE(Kick(by_stream, &response).ok());
  EXPECT_EQ(response.kicked(), 3u);
  for (tools::RtspClient* reader : {first.get(), second.get(), third.get()}) {
    EXPECT_EQ(ReadUntilClosed(*reader).code(), absl::StatusCode::kUnavailable);
  }
  // Nothing left: a second kick is 0, which is not an error.
  ASSERT_TRUE(Kick(by_stream, &response).ok());
  EXPECT_EQ(response.kicked(), 0u);
}

TEST_F(SessionsApiTest, KickOfAnUnknownSessionIdIsNotFound) {
  std::unique_ptr<tools::RtspClient> reader = Play(tools::Transport::kTcpInterleaved);
  v1::KickSessionsRequest request;
  request.set_session_id("nope");
  v1::KickSessionsResponse response;
  grpc::Status status = Kick(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "session nope: no such session");
  // The reader was not touched.
  absl::StatusOr<int64_t> read = reader->ReadMedia(absl::Milliseconds(500));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_GT(*read, 0);
}

}  // namespace
}  // namespace rtsptest::testing
