// RTSP faults (error status, delayed answer) and listener faults (close,
// stall, refuse) of RtspListener, seen from raw clients on loopback.
#include <gst/rtsp-server/rtsp-server.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "core/listener/rtsp_listener.h"
#include "gtest/gtest.h"
#include "tests/core/listener/raw_video_mount.h"
#include "tests/core/listener/rtsp_test_client.h"
#include "tests/util/loopback.h"

namespace rtsptest::core {
namespace {

using ::rtsptest::testing::RtspTestClient;

constexpr absl::Duration kTimeout = absl::Seconds(10);
constexpr char kTcpTransport[] = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n";

bool IsStatus(const std::string& response, int code) {
  return absl::StartsWith(response, absl::StrCat("RTSP/1.0 ", code, " "));
}

class RtspListenerFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* path : {"/cam", "/other"}) testing::MountRawVideo(listener_, path);
    ASSERT_TRUE(listener_.Start().ok());
  }
  int port() const { return static_cast<int>(listener_.bound_port()); }
  // One request on a new connection.
  std::string Once(absl::string_view method, absl::string_view path,
                   const std::string& headers = "") {
    RtspTestClient client(port());
    return client.Request(method, path, headers);
  }

  RtspListener listener_{"test", "127.0.0.1", 0};
};

RtspFault ErrorFault(std::string path, std::set<GstRTSPMethod> methods, int code) {
  RtspFault fault;
  fault.path = std::move(path);
  fault.methods = std::move(methods);
  fault.kind = RtspFault::Kind::kError;
  fault.status_code = code;
  return fault;
}

RtspFault DelayFault(std::string path, std::set<GstRTSPMethod> methods, absl::Duration delay) {
  RtspFault fault;
  fault.path = std::move(path);
  fault.methods = std::move(methods);
  fault.kind = RtspFault::Kind::kDelay;
  fault.delay = delay;
  return fault;
}

// --- RTSP faults ---------------------------------------------------------------

TEST_F(RtspListenerFaultsTest, ErrorAnswersDescribeOnThatPathOnly) {
  ASSERT_TRUE(listener_.SetRtspFault("f1", ErrorFault("/cam", {GST_RTSP_DESCRIBE}, 503)).ok());
  std::string cam = Once("DESCRIBE", "/cam");
  EXPECT_TRUE(IsStatus(cam, 503)) << cam;
  std::string other = Once("DESCRIBE", "/other");
  EXPECT_TRUE(IsStatus(other, 200)) << other;
  // Only DESCRIBE was named: SETUP of the same stream is served.
  std::string setup = Once("SETUP", "/cam/stream=0", kTcpTransport);
  EXPECT_TRUE(IsStatus(setup, 200)) << setup;

  listener_.ClearRtspFault("f1");
  std::string cleared = Once("DESCRIBE", "/cam");
  EXPECT_TRUE(IsStatus(cleared, 200)) << cleared;
}

TEST_F(RtspListenerFaultsTest, ErrorWithoutMethodsAppliesToDescribeSetupAndPlay) {
  RtspTestClient player(port());
  ASSERT_TRUE(player.PlayTcp("/cam"));  // set up before the fault
  ASSERT_TRUE(listener_.SetRtspFault("f", ErrorFault("/cam", {}, 454)).ok());

  EXPECT_TRUE(IsStatus(Once("DESCRIBE", "/cam"), 454));
  // A track URL falls under its stream's mount path.
  EXPECT_TRUE(IsStatus(Once("SETUP", "/cam/stream=0", kTcpTransport), 454));
  std::string play = player.Request("PLAY", "/cam");
  EXPECT_TRUE(IsStatus(play, 454)) << play;
  EXPECT_TRUE(IsStatus(Once("OPTIONS", "/cam"), 200));
}

TEST_F(RtspListenerFaultsTest, ClearingOneFaultLeavesTheOthers) {
  ASSERT_TRUE(listener_.SetRtspFault("a", ErrorFault("/cam", {GST_RTSP_DESCRIBE}, 404)).ok());
  ASSERT_TRUE(listener_.SetRtspFault("b", ErrorFault("/other", {GST_RTSP_DESCRIBE}, 401)).ok());
  listener_.ClearRtspFault("a");
  EXPECT_TRUE(IsStatus(Once("DESCRIBE", "/cam"), 200));
  EXPECT_TRUE(IsStatus(Once("DESCRIBE", "/other"), 401));
}

TEST_F(RtspListenerFaultsTest, RejectsInvalidFaults) {
  EXPECT_EQ(listener_.SetRtspFault("x", ErrorFault("cam", {}, 503)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(listener_.SetRtspFault("x", ErrorFault("/cam", {}, 200)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(listener_.SetRtspFault("x", ErrorFault("/cam", {GST_RTSP_OPTIONS}, 503)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(listener_.SetRtspFault("x", DelayFault("/cam", {}, absl::ZeroDuration())).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsStatus(Once("DESCRIBE", "/cam"), 200));
}

// Runs `method path` on its own connection and thread; `answered` is
// notified with the answer.
class PendingRequest {
 public:
  PendingRequest(int port, std::string method, std::string path, std::string headers = "")
      : client_(port), start_(absl::Now()) {
    thread_ = std::thread([this, method, path, headers] {
      response_ = client_.Request(method, path, headers, absl::Seconds(30));
      elapsed_ = absl::Now() - start_;
      answered_.Notify();
    });
  }
  ~PendingRequest() { thread_.join(); }
  bool answered() const { return answered_.HasBeenNotified(); }
  const std::string& Wait() {
    answered_.WaitForNotification();
    return response_;
  }
  absl::Duration elapsed() const { return elapsed_; }

 private:
  RtspTestClient client_;
  const absl::Time start_;
  std::string response_;
  absl::Duration elapsed_;
  absl::Notification answered_;
  std::thread thread_;
};

TEST_F(RtspListenerFaultsTest, DelayHoldsDescribeWhileOtherClientsAreAnswered) {
  constexpr absl::Duration kDelay = absl::Seconds(2);
  ASSERT_TRUE(listener_.SetRtspFault("d", DelayFault("/cam", {GST_RTSP_DESCRIBE}, kDelay)).ok());
  PendingRequest delayed(port(), "DESCRIBE", "/cam");

  const absl::Time start = absl::Now();
  std::string options = Once("OPTIONS", "/cam");
  EXPECT_TRUE(IsStatus(options, 200)) << options;
  std::string other = Once("DESCRIBE", "/other");
  EXPECT_TRUE(IsStatus(other, 200)) << other;
  EXPECT_LT(absl::Now() - start, kDelay);
  EXPECT_FALSE(delayed.answered());

  EXPECT_TRUE(IsStatus(delayed.Wait(), 200)) << delayed.Wait();
  EXPECT_GE(delayed.elapsed(), kDelay);
}

// SETUP's delay is waited before gst-rtsp-server locks the media: another
// reader of the same stream is served meanwhile.
TEST_F(RtspListenerFaultsTest, DelayedSetupDoesNotHoldBackTheStream) {
  constexpr absl::Duration kDelay = absl::Seconds(2);
  RtspTestClient player(port());
  ASSERT_TRUE(listener_.SetRtspFault("d", DelayFault("/cam", {GST_RTSP_SETUP}, kDelay)).ok());
  PendingRequest delayed(port(), "SETUP", "/cam/stream=0", kTcpTransport);

  const absl::Time start = absl::Now();
  std::string describe = Once("DESCRIBE", "/cam");
  EXPECT_TRUE(IsStatus(describe, 200)) << describe;
  EXPECT_LT(absl::Now() - start, kDelay);
  EXPECT_FALSE(delayed.answered());

  EXPECT_TRUE(IsStatus(delayed.Wait(), 200)) << delayed.Wait();
  EXPECT_GE(delayed.elapsed(), kDelay);
}

// More clients than the listener has client threads: a delayed request does
// not hold back the clients that share its thread.
TEST_F(RtspListenerFaultsTest, DelayDoesNotBlockClientsSharingItsThread) {
  constexpr absl::Duration kDelay = absl::Seconds(3);
  constexpr int kClients = 20;  // > the 8 client threads of a listener
  std::vector<std::unique_ptr<RtspTestClient>> idle;
  for (int i = 0; i < kClients; ++i) {
    idle.push_back(std::make_unique<RtspTestClient>(port()));
    ASSERT_TRUE(IsStatus(idle.back()->Request("OPTIONS", "/cam"), 200));
  }
  ASSERT_TRUE(listener_.SetRtspFault("d", DelayFault("/cam", {GST_RTSP_DESCRIBE}, kDelay)).ok());
  std::vector<std::unique_ptr<PendingRequest>> delayed;
  for (int i = 0; i < 4; ++i) {
    delayed.push_back(std::make_unique<PendingRequest>(port(), "DESCRIBE", "/cam"));
  }
  // Every connected client, whichever thread it shares, is answered at once.
  const absl::Time start = absl::Now();
  for (auto& client : idle) {
    EXPECT_TRUE(IsStatus(client->Request("OPTIONS", "/cam"), 200));
  }
  EXPECT_LT(absl::Now() - start, kDelay);
  for (auto& request : delayed) {
    EXPECT_TRUE(IsStatus(request->Wait(), 200));
    EXPECT_GE(request->elapsed(), kDelay);
  }
}

// --- Listener faults -----------------------------------------------------------

TEST_F(RtspListenerFaultsTest, CloseRefusesConnectionsAndStopRebindsTheSamePort) {
  const int bound = port();
  ASSERT_TRUE(listener_.StartListenerFault(ListenerFaultKind::kClose).ok());
  EXPECT_EQ(::rtsptest::testing::ConnectErrno(bound), ECONNREFUSED);
  EXPECT_EQ(listener_.StartListenerFault(ListenerFaultKind::kClose).code(),
            absl::StatusCode::kFailedPrecondition);

  listener_.StopListenerFault(ListenerFaultKind::kClose);
  EXPECT_EQ(port(), bound);
  EXPECT_TRUE(IsStatus(Once("OPTIONS", "/cam"), 200));
}

TEST_F(RtspListenerFaultsTest, StallAcceptsTcpButAnswersOnlyAfterStop) {
  RtspTestClient playing(port());
  ASSERT_TRUE(playing.PlayTcp("/cam"));
  ASSERT_TRUE(listener_.StartListenerFault(ListenerFaultKind::kStall).ok());
  EXPECT_EQ(listener_.StartListenerFault(ListenerFaultKind::kStall).code(),
            absl::StatusCode::kFailedPrecondition);

  RtspTestClient stalled(port());
  ASSERT_TRUE(stalled.connected());  // the kernel completes the handshake
  ASSERT_TRUE(
      stalled.Send(absl::StrCat("OPTIONS ", stalled.Url("/cam"), " RTSP/1.0\r\nCSeq: 1\r\n\r\n")));
  EXPECT_EQ(stalled.ReadResponse(absl::Seconds(1)), "");
  // Sessions that were already playing go on.
  EXPECT_TRUE(playing.ReadRtp(10, kTimeout));

  listener_.StopListenerFault(ListenerFaultKind::kStall);
  std::string late = stalled.ReadResponse(kTimeout);
  EXPECT_TRUE(IsStatus(late, 200)) << late;
  EXPECT_TRUE(IsStatus(Once("OPTIONS", "/cam"), 200));
}

TEST_F(RtspListenerFaultsTest, RefuseResetsEveryConnectionUntilStopped) {
  ASSERT_TRUE(listener_.StartListenerFault(ListenerFaultKind::kRefuse).ok());
  for (int i = 0; i < 3; ++i) {
    int fd = ::rtsptest::testing::ConnectLoopback(port());
    ASSERT_GE(fd, 0);
    timeval timeout{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    char byte;
    errno = 0;
    ssize_t n = read(fd, &byte, 1);
    EXPECT_EQ(n, -1);
    EXPECT_EQ(errno, ECONNRESET);
    close(fd);
  }
  listener_.StopListenerFault(ListenerFaultKind::kRefuse);
  EXPECT_TRUE(IsStatus(Once("OPTIONS", "/cam"), 200));
}

TEST_F(RtspListenerFaultsTest, ListenerFaultsNeedAServingListener) {
  RtspListener down("down", "127.0.0.1", 0);
  for (ListenerFaultKind kind :
       {ListenerFaultKind::kClose, ListenerFaultKind::kStall, ListenerFaultKind::kRefuse}) {
    EXPECT_EQ(down.StartListenerFault(kind).code(), absl::StatusCode::kFailedPrecondition);
  }
}

}  // namespace
}  // namespace rtsptest::core
