// Drain of the real rtsp_test_server binary on SIGTERM, seen from outside:
// gRPC health turns NOT_SERVING at once, a reader already playing keeps
// getting media until the drain timeout, new RTSP connections are refused,
// and the exit code is 0. Also: a second SIGTERM and drain_timeout 0 exit at
// once, and server reflection lets grpcurl find grpc.health.v1.Health.
//
// Ports are ephemeral; ServerProcess learns them from the server's log.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/app/health_client.h"
#include "tests/e2e/server_process.h"
#include "tests/util/loopback.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

using tools::RtspClient;
using tools::Transport;

constexpr absl::Duration kStep = absl::Seconds(5);
const char* const kListenerNames[] = {"a", "b", "c", "d"};

// Four loopback listeners, the gRPC port on 127.0.0.1:0, one cheap stream,
// fast probes, and DRAIN as the drain timeout.
std::string Config(const std::string& drain_timeout) {
  return absl::StrReplaceAll(R"yaml(
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
  - {name: b, bind_address: 127.0.0.1, port: 0}
  - {name: c, bind_address: 127.0.0.1, port: 0}
  - {name: d, bind_address: 127.0.0.1, port: 0}
streams:
  - path: /cam
    plugin: testpattern
    parameters: {width: 160, height: 120, fps: 5, overlay: false}
health: {probe_interval: 200ms, probe_timeout: 300ms}
control: {bind_address: 127.0.0.1, port: 0}
drain_timeout: DRAIN
)yaml",
                             {{"DRAIN", drain_timeout}});
}

// A reader that is PLAYING over TCP-interleaved and records when packets
// arrive, on its own thread, until the server closes the connection.
class PlayingReader {
 public:
  explicit PlayingReader(std::string url) : client_(std::move(url)) {}
  ~PlayingReader() { End(); }

  absl::Status Begin() {
    if (absl::Status s = client_.Connect(kStep); !s.ok()) return s;
    if (absl::Status s = client_.Describe(kStep).status(); !s.ok()) return s;
    if (absl::Status s = client_.SetupAll(Transport::kTcpInterleaved, kStep); !s.ok()) return s;
    if (absl::Status s = client_.Play(kStep).status(); !s.ok()) return s;
    // Media flows before the test goes on.
    // A generous bound: a loaded CI machine may take a while.
    const absl::Time deadline = absl::Now() + kStep;
    int64_t first = 0;
    while (first == 0 && absl::Now() < deadline) {
      absl::StatusOr<int64_t> packets = client_.ReadMedia(absl::Milliseconds(100));
      if (!packets.ok()) return packets.status();
      first = *packets;
    }
    if (first == 0) return absl::UnavailableError("no media within 5s of PLAY");
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        absl::StatusOr<int64_t> packets = client_.ReadMedia(absl::Milliseconds(50));
        if (!packets.ok()) break;  // The server closed the connection.
        if (*packets > 0) {
          absl::MutexLock lock(&mu_);
          arrivals_.push_back(absl::Now());
        }
      }
    });
    return absl::OkStatus();
  }
  void End() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  // Whether packets arrived in [from, to).
  bool ReceivedBetween(absl::Time from, absl::Time to) const {
    absl::MutexLock lock(&mu_);
    return std::any_of(arrivals_.begin(), arrivals_.end(),
                       [&](absl::Time t) { return t >= from && t < to; });
  }
  absl::Time last_arrival() const {
    absl::MutexLock lock(&mu_);
    return arrivals_.empty() ? absl::InfinitePast() : arrivals_.back();
  }

 private:
  RtspClient client_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable absl::Mutex mu_;
  std::vector<absl::Time> arrivals_ ABSL_GUARDED_BY(mu_);
};

class DrainTest : public ::testing::Test {
 protected:
  // Starts the server and waits (on a Watch) until "" is SERVING.
  void StartServing(const std::string& drain_timeout) {
    ASSERT_TRUE(server_.StartWithConfig(Config(drain_timeout)).ok()) << server_.output();
    ASSERT_NE(server_.grpc_port(), 0) << server_.output();
    client_ = std::make_unique<HealthClient>(server_.grpc_port());
    HealthWatch watch(*client_, "");
    ASSERT_TRUE(watch.NextWith(kServing, kStep).has_value()) << server_.output();
  }

  ServerProcess server_;
  std::unique_ptr<HealthClient> client_;
};

TEST_F(DrainTest, SigtermTurnsHealthNotServingAtOnceWhileAPlayingReaderGoesOnUntilTheDrainTimeout) {
  StartServing("3s");
  PlayingReader reader(server_.url("a", "/cam"));
  ASSERT_TRUE(reader.Begin().ok());
  HealthWatch watch(*client_, "");
  ASSERT_EQ(StatusName(watch.Next(kStep)->status), "SERVING");

  const absl::Time killed = absl::Now();
  ASSERT_EQ(kill(server_.pid(), SIGTERM), 0);
  // Check, polled as fast as it answers: the bound is what is measured.
  absl::Time check_not_serving = absl::InfiniteFuture();
  while (absl::Now() < killed + absl::Seconds(1)) {
    if (client_->CheckStatus("") == kNotServing) {
      check_not_serving = absl::Now();
      break;
    }
  }
  std::optional<HealthWatch::Update> watched = watch.Next(kStep);
  ASSERT_TRUE(watched.has_value());
  EXPECT_EQ(StatusName(watched->status), "NOT_SERVING");
  const absl::Duration check_took = check_not_serving - killed;
  const absl::Duration watch_took = watched->received - killed;
  std::cout << "[figure] SIGTERM -> Check NOT_SERVING " << absl::FormatDuration(check_took)
            << ", Watch NOT_SERVING " << absl::FormatDuration(watch_took) << "\n";
  RecordProperty("check_not_serving_after_sigterm_us",
                 absl::StrCat(absl::ToInt64Microseconds(check_took)));
  EXPECT_LE(check_took, absl::Milliseconds(100));
  EXPECT_LE(watch_took, absl::Milliseconds(100));
  for (const char* name : {"rtsp", "control"}) {
    EXPECT_EQ(StatusName(client_->CheckStatus(name)), "NOT_SERVING") << name;
  }

  // New sessions are refused: the RTSP ports no longer listen. "draining"
  // is logged once BeginDrain() has closed them.
  ASSERT_TRUE(server_.WaitForOutput("\"msg\":\"draining\"", kStep)) << server_.output();
  for (const char* listener : kListenerNames) {
    EXPECT_EQ(ConnectErrno(server_.port(listener)), ECONNREFUSED) << "listener " << listener;
  }

  absl::StatusOr<int> exit_code = server_.WaitForExit(absl::Seconds(3 + 5));
  const absl::Duration exited = absl::Now() - killed;
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server_.output();
  EXPECT_EQ(*exit_code, 0);
  reader.End();
  std::cout << "[figure] drain 3s: last packet "
            << absl::FormatDuration(reader.last_arrival() - killed) << " after SIGTERM, exit "
            << absl::FormatDuration(exited) << " after SIGTERM\n";
  // Media in every half second from 0.5 s to 2.5 s after the signal.
  for (absl::Duration from = absl::Milliseconds(500); from < absl::Milliseconds(2500);
       from += absl::Milliseconds(500)) {
    EXPECT_TRUE(reader.ReceivedBetween(killed + from, killed + from + absl::Milliseconds(500)))
        << "no packets in [" << absl::FormatDuration(from) << ", +500ms) after SIGTERM";
  }
  // The drain timeout is honoured, not cut short.
  EXPECT_GE(exited, absl::Milliseconds(2900));
}

TEST_F(DrainTest, SigtermWithNoReadersExitsWellBeforeTheDrainTimeout) {
  StartServing("10s");
  const absl::Time killed = absl::Now();
  absl::StatusOr<int> exit_code = server_.Stop(SIGTERM, absl::Seconds(15));
  const absl::Duration took = absl::Now() - killed;
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server_.output();
  EXPECT_EQ(*exit_code, 0);
  std::cout << "[figure] drain 10s, no readers: exit " << absl::FormatDuration(took) << "\n";
  EXPECT_LE(took, absl::Seconds(2)) << server_.output();
}

TEST_F(DrainTest, SecondSigtermDuringTheDrainExitsAtOnce) {
  StartServing("30s");
  PlayingReader reader(server_.url("b", "/cam"));
  ASSERT_TRUE(reader.Begin().ok());
  ASSERT_EQ(kill(server_.pid(), SIGTERM), 0);
  ASSERT_TRUE(server_.WaitForOutput("\"msg\":\"draining\"", kStep)) << server_.output();
  const absl::Time second = absl::Now();
  absl::StatusOr<int> exit_code = server_.Stop(SIGTERM, absl::Seconds(10));
  const absl::Duration took = absl::Now() - second;
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server_.output();
  EXPECT_EQ(*exit_code, 0);
  std::cout << "[figure] second SIGTERM: exit " << absl::FormatDuration(took) << "\n";
  EXPECT_LE(took, absl::Seconds(2));
}

TEST_F(DrainTest, DrainTimeoutZeroExitsAtOnceDespiteAPlayingReader) {
  StartServing("0s");
  PlayingReader reader(server_.url("c", "/cam"));
  ASSERT_TRUE(reader.Begin().ok());
  const absl::Time killed = absl::Now();
  absl::StatusOr<int> exit_code = server_.Stop(SIGTERM, absl::Seconds(10));
  const absl::Duration took = absl::Now() - killed;
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server_.output();
  EXPECT_EQ(*exit_code, 0);
  std::cout << "[figure] drain 0s with a reader: exit " << absl::FormatDuration(took) << "\n";
  EXPECT_LE(took, absl::Seconds(1));
}

// What grpcurl needs: the health service listed, and its descriptor served
// (`grpcurl -plaintext host:port grpc.health.v1.Health/Check` resolves the
// symbol through reflection before it can call anything).
class ReflectionTest : public DrainTest {};

TEST_F(ReflectionTest, ListsTheHealthService) {
  StartServing("0s");
  absl::StatusOr<std::vector<std::string>> services = ReflectionListServices(client_->channel());
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_NE(std::find(services->begin(), services->end(), "grpc.health.v1.Health"),
            services->end());
}

TEST_F(ReflectionTest, ServesTheHealthServiceDescriptorSoGrpcurlCanCallCheck) {
  StartServing("0s");
  absl::StatusOr<std::vector<std::string>> files =
      ReflectionFileContainingSymbol(client_->channel(), "grpc.health.v1.Health");
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_NE(std::find(files->begin(), files->end(), "grpc/health/v1/health.proto"), files->end());
}

}  // namespace
}  // namespace rtsptest::testing
