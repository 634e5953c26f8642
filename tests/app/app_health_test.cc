// Health of the real server, in process: an App (RTSP listeners, gRPC control
// plane, HealthMonitor, GrpcHealthPublisher) on ephemeral loopback ports,
// checked through real grpc.health.v1 clients while listeners are closed,
// reopened, stalled or never bound. Synchronisation is by Watch streams and
// HealthMonitor::ProbeNow/AwaitRound, never by sleeping.
//
// Not covered here: "" is NOT_SERVING before the first probe round. App
// starts the gRPC port and the first round together inside Start(), so no
// client can reach the port strictly before that round without racing it;
// the GrpcHealthPublisher unit test covers the initial state.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "app/app.h"
#include "config/config_validator.h"
#include "gtest/gtest.h"
#include "health/monitor/health_monitor.h"
#include "rtsptest/config/v1/config.pb.h"
#include "tests/app/health_client.h"
#include "tests/util/loopback.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

using app::App;
using common::ProbeFailure;
using config::v1::ServerConfig;
using core::RtspListener;
using health::HealthSnapshot;

constexpr int kListeners = 4;
constexpr absl::Duration kFastInterval = absl::Milliseconds(200);
constexpr absl::Duration kFastTimeout = absl::Milliseconds(300);
constexpr absl::Duration kWait = absl::Seconds(10);  // Generous cap for any one wait.

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  out->set_seconds(absl::ToInt64Seconds(d));
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d % absl::Seconds(1))));
}

// Four 127.0.0.1 listeners on port 0, the gRPC port on 127.0.0.1:0 and one
// cheap stream on every listener.
ServerConfig MakeConfig(absl::Duration interval, absl::Duration timeout) {
  ServerConfig config;
  for (int i = 0; i < kListeners; ++i) {
    config::v1::Listener* listener = config.add_listeners();
    listener->set_name(absl::StrCat("l", i));
    listener->set_bind_address("127.0.0.1");
    listener->set_port(0);
  }
  config::v1::Stream* stream = config.add_streams();
  stream->set_path("/cam");
  stream->set_plugin("testpattern");
  (*stream->mutable_parameters())["width"] = "160";
  (*stream->mutable_parameters())["height"] = "120";
  (*stream->mutable_parameters())["fps"] = "5";
  (*stream->mutable_parameters())["overlay"] = "false";
  config.add_plugin_dirs(absl::StrCat(std::getenv("TEST_SRCDIR"), "/rtsp_test_server/plugins"));
  config.mutable_control()->set_bind_address("127.0.0.1");
  config.mutable_control()->set_port(0);
  SetDuration(interval, config.mutable_health()->mutable_probe_interval());
  SetDuration(timeout, config.mutable_health()->mutable_probe_timeout());
  config::ApplyDefaults(&config);
  return config;
}

class AppHealthTest : public ::testing::Test {
 protected:
  void TearDown() override {
    watches_.clear();
    if (app_ != nullptr) app_->Stop();
  }

  // Starts the App and waits for its first completed probe round.
  void StartApp(ServerConfig config) {
    app_ = std::make_unique<App>(std::move(config));
    absl::Status started = app_->Start();
    ASSERT_TRUE(started.ok()) << started;
    ASSERT_TRUE(app_->monitor()->AwaitRound(1, kWait));
    client_ = std::make_unique<HealthClient>(app_->grpc_port());
  }
  void StartFastApp() { StartApp(MakeConfig(kFastInterval, kFastTimeout)); }

  RtspListener& listener(int i) { return *app_->server().listeners()[i]; }
  int port(int i) { return static_cast<int>(listener(i).bound_port()); }
  // The health name of listener i: "rtsp:<port>".
  std::string name(int i) { return absl::StrCat("rtsp:", port(i)); }

  // A round that started after every change so far, already published.
  HealthSnapshot ProbeNow() {
    absl::StatusOr<HealthSnapshot> snapshot = app_->monitor()->ProbeNow(kWait);
    EXPECT_TRUE(snapshot.ok()) << snapshot.status();
    return snapshot.ok() ? *snapshot : HealthSnapshot{};
  }

  HealthWatch& Watch(const std::string& service) {
    watches_.push_back(std::make_unique<HealthWatch>(*client_, service));
    return *watches_.back();
  }

  std::unique_ptr<App> app_;
  std::unique_ptr<HealthClient> client_;
  std::vector<std::unique_ptr<HealthWatch>> watches_;
};

TEST_F(AppHealthTest, FourOfFourUpServesEveryName) {
  StartFastApp();
  EXPECT_EQ(StatusName(client_->CheckStatus("")), "SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus("rtsp")), "SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus("control")), "SERVING");
  for (int i = 0; i < kListeners; ++i) {
    EXPECT_EQ(StatusName(client_->CheckStatus(name(i))), "SERVING") << name(i);
  }
}

TEST_F(AppHealthTest, OneListenerClosedAtRunTimeKeepsOverallServingAndMarksItsPortNotServing) {
  StartFastApp();
  listener(1).CloseListeningSocket();
  HealthSnapshot snapshot = ProbeNow();
  EXPECT_EQ(snapshot.healthy_listeners, 3);
  EXPECT_EQ(snapshot.listeners[1].failure, common::ProbeFailure::kRefused)
      << snapshot.listeners[1].last_error;
  EXPECT_EQ(StatusName(client_->CheckStatus("")), "SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus("rtsp")), "SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus(name(1))), "NOT_SERVING");
  for (int i : {0, 2, 3}) {
    EXPECT_EQ(StatusName(client_->CheckStatus(name(i))), "SERVING") << name(i);
  }
  EXPECT_EQ(StatusName(client_->CheckStatus("control")), "SERVING");
}

// Closes listeners 0 and 1 and returns the time from the close to the
// NOT_SERVING message on a Watch of "" opened before it.
absl::Duration TimeToNotServingAfterClosingTwo(HealthWatch& watch, RtspListener& a,
                                               RtspListener& b) {
  std::optional<HealthWatch::Update> first = watch.Next(kWait);
  EXPECT_TRUE(first.has_value());
  EXPECT_EQ(first ? StatusName(first->status) : "none", "SERVING");
  const absl::Time closed = absl::Now();
  a.CloseListeningSocket();
  b.CloseListeningSocket();
  std::optional<HealthWatch::Update> down = watch.Next(kWait);
  EXPECT_TRUE(down.has_value());
  if (!down.has_value()) return absl::InfiniteDuration();
  EXPECT_EQ(StatusName(down->status), "NOT_SERVING");
  return down->received - closed;
}

TEST_F(AppHealthTest,
       TwoListenersClosedTurnOverallNotServingWithinIntervalPlusTimeoutPlusOneSecond) {
  StartFastApp();
  HealthWatch& watch = Watch("");
  absl::Duration took = TimeToNotServingAfterClosingTwo(watch, listener(0), listener(1));
  RecordProperty("not_serving_after_two_closed_ms", absl::StrCat(absl::ToInt64Milliseconds(took)));
  std::cout << "[figure] 200ms/300ms: NOT_SERVING " << absl::FormatDuration(took)
            << " after closing two listeners\n";
  EXPECT_LE(took, kFastInterval + kFastTimeout + absl::Seconds(1));
  EXPECT_EQ(StatusName(client_->CheckStatus("")), "NOT_SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus("rtsp")), "NOT_SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus("control")), "SERVING");
}

TEST_F(AppHealthTest, TwoListenersClosedWithDefaultProbeTimingsTurnOverallNotServingWithinBound) {
  const absl::Duration interval = config::kDefaultProbeInterval;
  const absl::Duration timeout = config::kDefaultProbeTimeout;
  StartApp(MakeConfig(interval, timeout));
  HealthWatch& watch = Watch("");
  absl::Duration took = TimeToNotServingAfterClosingTwo(watch, listener(2), listener(3));
  RecordProperty("not_serving_after_two_closed_ms", absl::StrCat(absl::ToInt64Milliseconds(took)));
  std::cout << "[figure] 2s/2s: NOT_SERVING " << absl::FormatDuration(took)
            << " after closing two listeners\n";
  EXPECT_LE(took, interval + timeout + absl::Seconds(1));
}

TEST_F(AppHealthTest, ReopenedListenersTurnOverallServingAgain) {
  StartFastApp();
  const int port0 = port(0);
  const int port1 = port(1);
  listener(0).CloseListeningSocket();
  listener(1).CloseListeningSocket();
  ASSERT_FALSE(ProbeNow().serving);
  ASSERT_EQ(StatusName(client_->CheckStatus("")), "NOT_SERVING");

  absl::Status reopened0 = listener(0).ReopenListeningSocket();
  absl::Status reopened1 = listener(1).ReopenListeningSocket();
  ASSERT_TRUE(reopened0.ok()) << reopened0;
  ASSERT_TRUE(reopened1.ok()) << reopened1;
  EXPECT_EQ(port(0), port0);  // Same port, so the same health name.
  EXPECT_EQ(port(1), port1);
  HealthSnapshot snapshot = ProbeNow();
  EXPECT_EQ(snapshot.healthy_listeners, 4);
  EXPECT_EQ(StatusName(client_->CheckStatus("")), "SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus(absl::StrCat("rtsp:", port0))), "SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus(absl::StrCat("rtsp:", port1))), "SERVING");
}

TEST_F(AppHealthTest, StalledListenersAcceptTcpButNeverAnswerRtspAndCountAsDown) {
  // Probe timings with room for a loaded machine: the healthy listeners must
  // not time out too, or NOT_SERVING would prove nothing about the stalled ones.
  StartApp(MakeConfig(absl::Milliseconds(500), absl::Seconds(1)));
  HealthWatch& watch = Watch("");
  ASSERT_EQ(StatusName(watch.Next(kWait)->status), "SERVING");
  // Long enough for a probe round to time out on them and for the checks
  // below, with room for a loaded CI machine; they recover afterwards.
  constexpr absl::Duration kStall = absl::Seconds(6);
  listener(0).StallLoopFor(kStall);
  listener(1).StallLoopFor(kStall);

  std::optional<HealthWatch::Update> down = watch.Next(kWait);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(StatusName(down->status), "NOT_SERVING");
  HealthSnapshot snapshot = app_->monitor()->snapshot();
  EXPECT_EQ(snapshot.listeners[0].failure, common::ProbeFailure::kRtspTimeout)
      << snapshot.listeners[0].last_error;
  EXPECT_EQ(snapshot.listeners[1].failure, common::ProbeFailure::kRtspTimeout)
      << snapshot.listeners[1].last_error;
  EXPECT_EQ(StatusName(client_->CheckStatus(name(0))), "NOT_SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus(name(1))), "NOT_SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus(name(2))), "SERVING");

  // A connect-only check would have passed: the kernel still completes the
  // TCP handshake on the stalled port. The RTSP answer never comes. (Checked
  // after NOT_SERVING, which proves the stall is in effect.)
  tools::RtspClient raw(absl::StrCat("rtsp://127.0.0.1:", port(0), "/cam"));
  ASSERT_TRUE(raw.Connect(absl::Milliseconds(300)).ok());
  absl::StatusOr<tools::RtspResponse> options = raw.Options(kFastTimeout);
  EXPECT_EQ(options.status().code(), absl::StatusCode::kDeadlineExceeded) << options.status();
  raw.Close();

  // When the loops run again, so does the server.
  std::optional<HealthWatch::Update> up = watch.Next(kStall + kWait);
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(StatusName(up->status), "SERVING");
}

TEST_F(AppHealthTest, WatchDeliversEveryTransitionInOrder) {
  StartFastApp();
  HealthWatch& overall = Watch("");
  HealthWatch& port0 = Watch(name(0));
  HealthWatch& port3 = Watch(name(3));
  ASSERT_TRUE(overall.Next(kWait).has_value());
  ASSERT_TRUE(port0.Next(kWait).has_value());
  ASSERT_TRUE(port3.Next(kWait).has_value());

  listener(0).CloseListeningSocket();
  listener(1).CloseListeningSocket();
  ASSERT_TRUE(overall.Next(kWait).has_value());
  ASSERT_TRUE(port0.Next(kWait).has_value());
  ASSERT_TRUE(listener(0).ReopenListeningSocket().ok());
  ASSERT_TRUE(listener(1).ReopenListeningSocket().ok());
  ASSERT_TRUE(overall.Next(kWait).has_value());
  ASSERT_TRUE(port0.Next(kWait).has_value());
  // Two more rounds with nothing changing: no repeats reach the streams.
  ProbeNow();
  ProbeNow();

  const std::vector<ServingStatus> expected = {kServing, kNotServing, kServing};
  EXPECT_EQ(overall.History(), expected);
  EXPECT_EQ(port0.History(), expected);
  EXPECT_EQ(port3.History(), std::vector<ServingStatus>{kServing});
}

TEST_F(AppHealthTest, UnknownNameIsNotFoundOnCheckAndServiceUnknownOnWatch) {
  StartFastApp();
  CheckResult check = client_->Check("nope");
  EXPECT_EQ(check.code, grpc::StatusCode::NOT_FOUND);
  HealthWatch& watch = Watch("nope");
  std::optional<HealthWatch::Update> first = watch.Next(kWait);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(StatusName(first->status), "SERVICE_UNKNOWN");
  // A port that is not one of ours is unknown as well.
  EXPECT_EQ(client_->Check("rtsp:1").code, grpc::StatusCode::NOT_FOUND);
}

TEST_F(AppHealthTest, ListenerWhosePortWasTakenBeforeStartIsDownWhileThreeOfFourServe) {
  HeldPort squatter(HeldPort::Mode::kListening);
  ServerConfig config = MakeConfig(kFastInterval, kFastTimeout);
  config.mutable_listeners(2)->set_port(static_cast<uint32_t>(squatter.port()));
  StartApp(std::move(config));
  ASSERT_FALSE(listener(2).is_serving());

  HealthSnapshot snapshot = ProbeNow();
  EXPECT_EQ(snapshot.healthy_listeners, 3);
  EXPECT_EQ(snapshot.listeners[2].failure, common::ProbeFailure::kNotBound);
  EXPECT_EQ(StatusName(client_->CheckStatus("")), "SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus("rtsp")), "SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus(absl::StrCat("rtsp:", squatter.port()))),
            "NOT_SERVING");
  for (int i : {0, 1, 3}) {
    EXPECT_EQ(StatusName(client_->CheckStatus(name(i))), "SERVING") << name(i);
  }
}

// The drain relies on this: once CloseListeningSocket() returns, the port
// refuses connections. An open session keeps the listener's loop busy (as
// readers do during a drain), and the close is repeated, so that a close
// that is only deferred to the loop thread shows up.
TEST_F(AppHealthTest, ClosedListeningSocketRefusesTheVeryNextConnect) {
  StartFastApp();
  const int port0 = port(0);
  tools::RtspClient session(absl::StrCat("rtsp://127.0.0.1:", port0, "/cam"));
  ASSERT_TRUE(session.Connect(absl::Seconds(2)).ok());
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    while (!stop.load() && session.Options(absl::Seconds(2)).ok()) {
    }
  });
  constexpr int kAttempts = 200;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    listener(0).CloseListeningSocket();
    const int connect_errno = ConnectErrno(port0);
    EXPECT_EQ(connect_errno, ECONNREFUSED)
        << "attempt " << attempt << ": connect after CloseListeningSocket() returned: "
        << (connect_errno == 0 ? "accepted" : std::strerror(connect_errno));
    absl::Status reopened = listener(0).ReopenListeningSocket();
    EXPECT_TRUE(reopened.ok()) << "attempt " << attempt << ": " << reopened;
    if (connect_errno != ECONNREFUSED || !reopened.ok()) break;
  }
  stop.store(true);
  busy.join();
}

TEST_F(AppHealthTest, ReflectionListsTheHealthService) {
  StartFastApp();
  absl::StatusOr<std::vector<std::string>> services = ReflectionListServices(client_->channel());
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_NE(std::find(services->begin(), services->end(), "grpc.health.v1.Health"),
            services->end());
  EXPECT_NE(
      std::find(services->begin(), services->end(), "grpc.reflection.v1alpha.ServerReflection"),
      services->end());
}

}  // namespace
}  // namespace rtsptest::testing
