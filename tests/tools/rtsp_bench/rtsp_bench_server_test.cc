// rtsp_bench against the real rtsp_test_server, checked against the
// server's own view through its control API: the readers the bench reports
// playing are exactly the sessions ListSessions lists (TCP, and UDP on a
// stream with video and audio), the loss of a `drop` fault shows as gaps in
// the measured proportion, and churn runs its drops and reconnects against a
// server that stays up.
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rtsptest/control/v1/control.grpc.pb.h"
#include "tests/e2e/server_process.h"
#include "tests/tools/rtsp_bench/bench_runner.h"

namespace rtsptest::testing {
namespace {

namespace v1 = ::rtsptest::control::v1;

constexpr char kConfig[] = R"yaml(
listeners:
  - {name: lo, bind_address: 127.0.0.1, port: 0}
streams:
  - path: /a
    plugin: testpattern
    parameters: {codec: mjpeg, width: 160, height: 120, fps: 25, overlay: false}
  - path: /av
    plugin: testpattern
    parameters: {codec: mjpeg, width: 160, height: 120, fps: 25, overlay: false, audio: pcmu}
drain_timeout: 0s
)yaml";

class RtspBenchServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.StartWithConfig(kConfig).ok()) << server_.output();
    stub_ = v1::ControlService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_.grpc_port()), grpc::InsecureChannelCredentials()));
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    return context;
  }

  // Sessions of every stream by transport, and in all.
  struct Count {
    int tcp = 0;
    int udp = 0;
    int all = 0;
  };
  Count Sessions() {
    v1::ListSessionsResponse response;
    grpc::Status status =
        stub_->ListSessions(Context().get(), v1::ListSessionsRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    Count count;
    for (const v1::Session& session : response.sessions()) {
      ++count.all;
      if (session.transport() == "tcp" && session.stream() == "/a") ++count.tcp;
      if (session.transport() == "udp" && session.stream() == "/av") ++count.udp;
    }
    return count;
  }
  // Polls ListSessions (every 50 ms, up to `timeout`) until `done` holds;
  // the last count.
  template <typename Done>
  Count AwaitSessions(Done done, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    Count count = Sessions();
    while (!done(count) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
      count = Sessions();
    }
    return count;
  }

  ServerProcess server_;
  std::unique_ptr<v1::ControlService::Stub> stub_;
};

TEST_F(RtspBenchServerTest, PlayingReadersMatchTheServersSessions) {
  BenchRun tcp, udp;
  std::thread tcp_bench([&] {
    tcp = RunBench({"--url=" + server_.url("lo", "/a"), "--readers=20", "--duration=6s"}, "tcp");
  });
  std::thread udp_bench([&] {
    // Two tracks (video and PCMU audio): two UDP socket pairs per reader.
    udp = RunBench({"--url=" + server_.url("lo", "/av"), "--readers=5", "--transport=udp",
                    "--udp_bind=127.0.0.1", "--duration=6s"},
                   "udp");
  });
  const Count playing =
      AwaitSessions([](const Count& c) { return c.tcp == 20 && c.udp == 5; }, absl::Seconds(6));
  tcp_bench.join();
  udp_bench.join();
  EXPECT_EQ(playing.tcp, 20);
  EXPECT_EQ(playing.udp, 5);
  EXPECT_EQ(playing.all, 25);
  ASSERT_EQ(tcp.exit_code, 0) << tcp.err;
  ASSERT_EQ(udp.exit_code, 0) << udp.err;
  EXPECT_EQ(At(tcp.report, "totals.playing_at_end"), 20) << tcp.report.dump(2);
  EXPECT_EQ(At(tcp.report, "totals.plays"), 20);
  EXPECT_EQ(At(udp.report, "totals.playing_at_end"), 5) << udp.report.dump(2);
  EXPECT_EQ(At(udp.report, "totals.plays"), 5);
  EXPECT_GT(At(udp.report, "totals.packets").get<int64_t>(), 5 * 25);
  EXPECT_EQ(At(udp.report, "media_rate.count"), 5);  // the lower of each reader's two tracks
  // TEARDOWN at the end: the server's sessions go with the readers.
  const Count after = AwaitSessions([](const Count& c) { return c.all == 0; }, absl::Seconds(10));
  EXPECT_EQ(after.all, 0);
}

TEST_F(RtspBenchServerTest, DropFaultShowsAsGapsInProportion) {
  v1::InjectFaultRequest request;
  request.mutable_fault()->set_kind("drop");
  request.mutable_fault()->set_stream("/a");
  request.mutable_fault()->set_percent(30);
  v1::Fault fault;
  grpc::Status status = stub_->InjectFault(Context().get(), request, &fault);
  ASSERT_TRUE(status.ok()) << status.error_message();
  BenchRun run =
      RunBench({"--url=" + server_.url("lo", "/a"), "--readers=4", "--duration=3s"}, "drop");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const common::Json& r = run.report;
  const int64_t received = At(r, "totals.packets").get<int64_t>();
  const int64_t lost = At(r, "sequence.lost_packets").get<int64_t>();
  std::printf("drop 30%%: %lld received, %lld lost (%.3f)\n", static_cast<long long>(received),
              static_cast<long long>(lost), At(r, "sequence.loss_ratio").get<double>());
  ASSERT_GT(received, 200);
  EXPECT_GT(lost, 0);
  EXPECT_EQ(At(r, "sequence.readers_with_loss"), 4);
  // Dropped packets are gaps, not reordering: nothing arrives late or twice.
  EXPECT_EQ(At(r, "sequence.late_packets"), 0);
  EXPECT_EQ(At(r, "sequence.duplicate_packets"), 0);
  EXPECT_EQ(At(r, "sequence.resyncs"), 0);
  EXPECT_GT(At(r, "sequence.loss_ratio").get<double>(), 0.15);
  EXPECT_LT(At(r, "sequence.loss_ratio").get<double>(), 0.45);
  EXPECT_LE(At(r, "sequence.gap_events").get<int64_t>(), lost);
}

TEST_F(RtspBenchServerTest, ChurnDropsAndReconnectsWhileTheServerStaysUp) {
  BenchRun run = RunBench({"--url=" + server_.url("lo", "/a"), "--readers=30", "--ramp=0",
                           "--churn=0.6", "--churn_hold=500ms", "--duration=3s"},
                          "churn");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const common::Json& r = run.report;
  EXPECT_GT(At(r, "churn.drops").get<int64_t>(), 10) << r.dump(2);
  EXPECT_GT(At(r, "churn.resets").get<int64_t>(), 0);
  EXPECT_GT(At(r, "totals.attempts").get<int64_t>(), 30);
  EXPECT_EQ(At(r, "failures.total"), 0) << r.dump(2);
  EXPECT_TRUE(server_.IsRunning());
  // And it still serves: a plain run afterwards plays.
  BenchRun after =
      RunBench({"--url=" + server_.url("lo", "/a"), "--readers=2", "--duration=1s"}, "after");
  EXPECT_EQ(At(after.report, "totals.readers_played"), 2) << after.err;
}

TEST_F(RtspBenchServerTest, ChurnEveryKeepsDroppingPlayingReadersForTheWholeRun) {
  // 10 readers for 4 s, each dropping on average 400 ms into play: about 8
  // drops a reader. --churn alone would drop an attempt with probability
  // 0, so every drop here comes from --churn_every, all of them while playing.
  BenchRun run = RunBench({"--url=" + server_.url("lo", "/a"), "--readers=10", "--ramp=0",
                           "--churn_every=400ms", "--duration=4s"},
                          "churn_every");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const common::Json& r = run.report;
  const int64_t drops = At(r, "churn.drops").get<int64_t>();
  EXPECT_GE(drops, 30) << r.dump(2);
  EXPECT_EQ(At(r, "churn.by_stage.playing").get<int64_t>(), drops);
  EXPECT_GT(At(r, "totals.attempts").get<int64_t>(), 40);
  EXPECT_EQ(At(r, "failures.total"), 0) << r.dump(2);
  EXPECT_TRUE(server_.IsRunning());
}

}  // namespace
}  // namespace rtsptest::testing
