// WatchEvents and WatchHealthReport end to end: the real rtsp_test_server, a
// real gRPC watcher and a real RTSP reader (tools/rtsp_client). The watcher
// sees, in order, the stream created, the reader's session opened and
// closed, and the stream removed; health changes; filters and bad requests
// behave as documented.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rtsptest/control/v1/control.grpc.pb.h"
#include "tests/e2e/server_process.h"
#include "tests/util/event_watcher.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

namespace v1 = ::rtsptest::control::v1;

constexpr absl::Duration kStep = absl::Seconds(10);

constexpr char kConfig[] = R"yaml(
listeners:
  - {name: lo, bind_address: 127.0.0.1, port: 0}
drain_timeout: 0s
)yaml";

class WatchEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.StartWithConfig(kConfig).ok()) << server_.output();
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_.grpc_port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::ControlService::NewStub(channel_);
  }

  grpc::Status Create(const std::string& path) {
    v1::CreateStreamRequest request;
    auto* stream = request.mutable_stream();
    stream->set_path(path);
    stream->set_plugin("testpattern");
    auto& p = *stream->mutable_parameters();
    p["codec"] = "mjpeg";
    p["width"] = "160";
    p["height"] = "120";
    p["fps"] = "5";
    p["overlay"] = "false";
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kStep));
    v1::StreamStatus status;
    return stub_->CreateStream(&context, request, &status);
  }
  grpc::Status Delete(const std::string& path) {
    v1::DeleteStreamRequest request;
    request.set_path(path);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kStep));
    v1::DeleteStreamResponse response;
    return stub_->DeleteStream(&context, request, &response);
  }

  ServerProcess server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ControlService::Stub> stub_;
};

TEST_F(WatchEventsTest, StreamAndSessionEventsArriveInOrder) {
  v1::WatchEventsRequest streams_and_sessions;
  streams_and_sessions.add_kinds("stream");
  streams_and_sessions.add_kinds("session");
  EventWatcher watcher(stub_.get(), streams_and_sessions);
  ASSERT_TRUE(Create("/watched").ok());

  tools::RtspClient reader(server_.url("lo", "/watched"));
  ASSERT_TRUE(reader.Connect(kStep).ok());
  ASSERT_TRUE(reader.Describe(kStep).ok());
  ASSERT_TRUE(reader.SetupAll(tools::Transport::kTcpInterleaved, kStep).ok());
  ASSERT_TRUE(reader.Play(kStep).ok());
  ASSERT_TRUE(reader.ReadMedia(absl::Milliseconds(300)).ok());
  // The session is open once the PLAY answered; close it, then the stream.
  ASSERT_GE(watcher.Await(2, kStep).size(), 2u);
  reader.Close();
  ASSERT_GE(watcher.Await(3, kStep).size(), 3u);
  ASSERT_TRUE(Delete("/watched").ok());

  // created, opened, closed, then the removal's state change and removed
  // (liveness changes, e.g. starting -> live, may come in between).
  std::vector<v1::Event> events = watcher.Await(100, absl::Seconds(1));
  std::vector<std::string> seen;
  for (const v1::Event& event : events) {
    EXPECT_EQ(event.stream(), "/watched");
    if (event.kind() == "session") {
      EXPECT_EQ(event.fields().at("remote"), "127.0.0.1");
      EXPECT_EQ(event.fields().at("listener"), "lo");
    }
    if (event.type() != "state_changed") seen.push_back(event.kind() + ":" + event.type());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"stream:created", "session:opened", "session:closed",
                                            "stream:removed"}));
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_GT(events[i].sequence(), events[i - 1].sequence());
    EXPECT_GE(events[i].time().seconds(), events[i - 1].time().seconds());
  }
}

TEST_F(WatchEventsTest, FiltersByKindAndStreamAndReplaysAfterASequence) {
  v1::WatchEventsRequest sessions_only;
  sessions_only.add_kinds("session");
  EventWatcher sessions(stub_.get(), sessions_only);
  v1::WatchEventsRequest other_stream;
  other_stream.set_stream("/other");
  EventWatcher other(stub_.get(), other_stream);

  ASSERT_TRUE(Create("/a").ok());
  ASSERT_TRUE(Create("/other").ok());
  ASSERT_TRUE(Delete("/a").ok());
  std::vector<v1::Event> for_other = other.Await(1, kStep);
  ASSERT_FALSE(for_other.empty());
  for (const v1::Event& event : for_other) EXPECT_EQ(event.stream(), "/other");
  // No reader played: the session watcher saw nothing of the three calls.
  EXPECT_TRUE(sessions.Await(1, absl::Milliseconds(500)).empty());

  // Replaying from sequence 0 returns the kept history, "/a" created first
  // (health changes may precede it).
  v1::WatchEventsRequest replay;
  replay.set_after_sequence(0);
  replay.add_kinds("stream");
  EventWatcher history(stub_.get(), replay);
  std::vector<v1::Event> kept = history.Await(3, kStep);
  ASSERT_GE(kept.size(), 3u);
  EXPECT_GE(kept[0].sequence(), 1u);
  EXPECT_EQ(kept[0].stream(), "/a");
  EXPECT_EQ(kept[0].type(), "created");
}

TEST_F(WatchEventsTest, AStreamTurningLiveIsAHealthChange) {
  v1::WatchEventsRequest health_only;
  health_only.add_kinds("health");
  EventWatcher watcher(stub_.get(), health_only);
  ASSERT_TRUE(Create("/h").ok());
  const absl::Time deadline = absl::Now() + kStep;
  bool seen = false;
  for (size_t count = 1; !seen && absl::Now() < deadline; ++count) {
    std::vector<v1::Event> events = watcher.Await(count, deadline - absl::Now());
    if (events.size() < count) break;
    const v1::Event& event = events.back();
    EXPECT_EQ(event.kind(), "health");
    EXPECT_EQ(event.type(), "changed");
    seen = event.fields().at("name") == "stream:/h" && event.fields().at("to") == "SERVING";
    if (seen) {
      EXPECT_EQ(event.stream(), "/h");
      // A name new since start: from SERVICE_UNKNOWN (or NOT_SERVING when
      // its first evaluation found it not yet live).
      EXPECT_NE(event.fields().at("from"), "SERVING");
    }
  }
  EXPECT_TRUE(seen) << "no health change of stream:/h to SERVING";
}

// WatchHealthReport: a report at once, then on changes: a stream created
// after the watch began shows up live in a later report.
TEST_F(WatchEventsTest, WatchHealthReportFollowsChanges) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kStep * 2));
  v1::WatchHealthReportRequest request;
  request.mutable_heartbeat()->set_seconds(1);
  std::unique_ptr<grpc::ClientReader<v1::HealthReport>> reader =
      stub_->WatchHealthReport(&context, request);
  v1::HealthReport report;
  ASSERT_TRUE(reader->Read(&report));
  EXPECT_EQ(report.streams_size(), 0);
  ASSERT_TRUE(Create("/later").ok());
  bool live = false;
  while (!live && reader->Read(&report)) {
    for (const v1::StreamReport& stream : report.streams()) {
      live = live || (stream.path() == "/later" && stream.state() == v1::STREAM_STATE_LIVE);
    }
  }
  EXPECT_TRUE(live) << "the watch ended before /later was reported live";
  context.TryCancel();
}

TEST_F(WatchEventsTest, HealthReportHeartbeatUnder100msIsInvalidArgument) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kStep));
  v1::WatchHealthReportRequest request;
  request.mutable_heartbeat()->set_nanos(50 * 1000 * 1000);
  std::unique_ptr<grpc::ClientReader<v1::HealthReport>> reader =
      stub_->WatchHealthReport(&context, request);
  v1::HealthReport report;
  EXPECT_FALSE(reader->Read(&report));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "heartbeat 50ms is shorter than the minimum 100ms");
}

TEST_F(WatchEventsTest, UnknownKindIsInvalidArgument) {
  v1::WatchEventsRequest request;
  request.add_kinds("weather");
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kStep));
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader = stub_->WatchEvents(&context, request);
  v1::Event event;
  EXPECT_FALSE(reader->Read(&event));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "kinds[0]: 'weather' is not an event kind (stream, session, fault, health)");
}

}  // namespace
}  // namespace rtsptest::testing
