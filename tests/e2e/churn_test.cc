// Churn: bursts of readers that connect to one shared stream and drop at
// random points must neither crash the server nor disturb a steady reader.
//
// Stock gst-rtsp-server 1.22 aborts in gst_rtsp_media_get_rates() under this
// load when the shared media is prepared and torn down by its readers (see
// core/media/stream_media.h for the cause and the design that
// prevents it). This test runs the real binary and real sockets.
#include <signal.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

using tools::RtspClient;
using tools::Transport;

constexpr int kRounds = 10;
constexpr int kReadersPerRound = 150;
constexpr absl::Duration kStepTimeout = absl::Seconds(10);
constexpr absl::Duration kServedBound = absl::Seconds(5);

constexpr char kConfig[] = R"yaml(
listeners:
  - {name: churn, bind_address: 127.0.0.1, port: 0}
streams:
  - path: /shared
    plugin: testpattern
    parameters: {width: 320, height: 240, fps: 15, codec: h264, overlay: false, gop: 15}
drain_timeout: 0s
)yaml";

// Where a churning reader gives up.
enum class DropPoint {
  kAfterConnect,
  kAfterOptions,
  kAfterDescribe,
  kAfterSetup,
  kAfterPlay,
  kMidStream
};

// How far one churning reader got: the drop it planned, whether it reached
// PLAY, and the first step that failed (OK when every step it tried passed).
struct ChurnOutcome {
  DropPoint drop = DropPoint::kAfterConnect;
  bool played = false;
  absl::Status error;
};

// One reader that drops at `drop`, with a FIN or a TCP reset.
ChurnOutcome ChurnOnce(const std::string& url, DropPoint drop, bool reset, Transport transport,
                       absl::Duration stream_for) {
  ChurnOutcome outcome;
  outcome.drop = drop;
  RtspClient client(url);
  auto step = [&](absl::Status status, DropPoint after) {
    if (!status.ok()) outcome.error = status;
    return status.ok() && drop != after;
  };
  if (step(client.Connect(kStepTimeout), DropPoint::kAfterConnect) &&
      step(client.Options(kStepTimeout).status(), DropPoint::kAfterOptions) &&
      step(client.Describe(kStepTimeout).status(), DropPoint::kAfterDescribe) &&
      step(client.SetupAll(transport, kStepTimeout), DropPoint::kAfterSetup)) {
    absl::Status played = client.Play(kStepTimeout).status();
    outcome.played = played.ok();
    if (step(played, DropPoint::kAfterPlay)) {
      absl::Status read = client.ReadMedia(stream_for).status();
      if (!read.ok()) outcome.error = read;
    }
  }
  client.Close(reset);
  return outcome;
}

// A reader that stays for the whole test and records packets per round.
class SteadyReader {
 public:
  explicit SteadyReader(std::string url) : client_(std::move(url)) {}

  absl::Status Begin() {
    if (absl::Status s = client_.Connect(kStepTimeout); !s.ok()) return s;
    if (absl::Status s = client_.Describe(kStepTimeout).status(); !s.ok()) return s;
    if (absl::Status s = client_.SetupAll(Transport::kTcpInterleaved, kStepTimeout); !s.ok())
      return s;
    if (absl::Status s = client_.Play(kStepTimeout).status(); !s.ok()) return s;
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        absl::StatusOr<int64_t> packets = client_.ReadMedia(absl::Milliseconds(100));
        if (!packets.ok()) {
          absl::MutexLock lock(&mutex_);
          failed_ = true;
          lost_connection_ = true;
          return;
        }
        absl::MutexLock lock(&mutex_);
        packets_ += *packets;
      }
      absl::MutexLock lock(&mutex_);
      failed_ = true;  // stopped: nothing more will arrive
    });
    return absl::OkStatus();
  }
  void End() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  int64_t packets() const {
    absl::MutexLock lock(&mutex_);
    return packets_;
  }
  bool lost_connection() const {
    absl::MutexLock lock(&mutex_);
    return lost_connection_;
  }
  // Waits until more than `count` packets have arrived; false on timeout or
  // if the reader stopped.
  bool AwaitPacketsAbove(int64_t count, absl::Duration timeout) const {
    absl::MutexLock lock(&mutex_);
    auto arrived = [this, count]()
                       ABSL_SHARED_LOCKS_REQUIRED(mutex_) { return packets_ > count || failed_; };
    mutex_.AwaitWithTimeout(absl::Condition(&arrived), timeout);
    return packets_ > count;
  }

 private:
  RtspClient client_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable absl::Mutex mutex_;
  int64_t packets_ ABSL_GUARDED_BY(mutex_) = 0;
  bool failed_ ABSL_GUARDED_BY(mutex_) = false;
  bool lost_connection_ ABSL_GUARDED_BY(mutex_) = false;
};

TEST(ChurnTest, ServerSurvivesReaderChurnAndKeepsServingASteadyReader) {
  ServerProcess server;
  ASSERT_TRUE(server.StartWithConfig(kConfig).ok()) << server.output();
  const std::string url = server.url("churn", "/shared");

  SteadyReader steady(url);
  ASSERT_TRUE(steady.Begin().ok());

  std::mt19937 rng(20261123);
  for (int round = 0; round < kRounds; ++round) {
    const int64_t packets_before = steady.packets();
    std::vector<ChurnOutcome> outcomes(kReadersPerRound);
    std::vector<std::thread> readers;
    for (int i = 0; i < kReadersPerRound; ++i) {
      auto drop = static_cast<DropPoint>(rng() % 6);
      bool reset = rng() % 2 == 0;
      Transport transport = rng() % 2 == 0 ? Transport::kTcpInterleaved : Transport::kUdp;
      absl::Duration stream_for = absl::Milliseconds(rng() % 400);
      readers.emplace_back([&outcomes, i, url, drop, reset, transport, stream_for] {
        outcomes[i] = ChurnOnce(url, drop, reset, transport, stream_for);
      });
    }
    for (std::thread& reader : readers) reader.join();

    // Every step a reader tried was answered, and every reader that meant to
    // play reached PLAY.
    int meant_to_play = 0, played = 0;
    for (const ChurnOutcome& outcome : outcomes) {
      EXPECT_TRUE(outcome.error.ok()) << "round " << round << ": " << outcome.error;
      if (outcome.drop >= DropPoint::kAfterPlay) ++meant_to_play;
      if (outcome.played) ++played;
    }
    ASSERT_GT(meant_to_play, 0) << "round " << round;
    EXPECT_EQ(played, meant_to_play) << "round " << round << ": readers that reached PLAY";
    ASSERT_TRUE(server.IsRunning()) << "server died in round " << round << "\n" << server.output();
    // The steady reader is still served: media that arrived during this
    // round, or within a generous bound after it (a loaded CI machine may
    // starve the reader's own thread for a moment).
    EXPECT_TRUE(steady.AwaitPacketsAbove(packets_before, kServedBound))
        << "no media for the steady reader in round " << round;
    ASSERT_FALSE(steady.lost_connection())
        << "steady reader lost its connection in round " << round;
  }

  // After the churn, a brand-new reader still gets media.
  RtspClient late(url);
  ASSERT_TRUE(late.Connect(kStepTimeout).ok());
  ASSERT_TRUE(late.Describe(kStepTimeout).ok());
  ASSERT_TRUE(late.SetupAll(Transport::kTcpInterleaved, kStepTimeout).ok());
  ASSERT_TRUE(late.Play(kStepTimeout).ok());
  absl::StatusOr<int64_t> late_packets = late.ReadMedia(absl::Seconds(2));
  ASSERT_TRUE(late_packets.ok());
  EXPECT_GT(*late_packets, 0);
  late.Close();

  steady.End();
  absl::StatusOr<int> exit_code = server.Stop(SIGTERM);
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 0);
  EXPECT_EQ(server.output().find("assertion failed"), std::string::npos);
}

}  // namespace
}  // namespace rtsptest::testing
