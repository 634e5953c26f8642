// RtspListener against hostile requests on loopback: a connection that names
// another connection's session, and UDP transports that point elsewhere.
#include <arpa/inet.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/listener/rtsp_listener.h"
#include "gtest/gtest.h"
#include "tests/core/listener/raw_video_mount.h"
#include "tests/core/listener/rtsp_test_client.h"

namespace rtsptest::core {
namespace {

using ::rtsptest::testing::Header;
using ::rtsptest::testing::RtspTestClient;

constexpr absl::Duration kTimeout = absl::Seconds(10);
constexpr char kTcpTransport[] = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n";

bool IsStatus(const std::string& response, int code) {
  return absl::StartsWith(response, absl::StrCat("RTSP/1.0 ", code, " "));
}

// A UDP socket bound to `address`:`port` (0: the kernel chooses).
class UdpSocket {
 public:
  UdpSocket(const char* address, int port) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, address, &addr.sin_addr);
    socklen_t length = sizeof(addr);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  ~UdpSocket() {
    if (fd_ >= 0) close(fd_);
  }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  int port() const { return port_; }
  // Waits up to `timeout` for each of `count` datagrams; true when all came.
  bool Receive(int count, absl::Duration timeout) {
    char datagram[65536];
    for (int i = 0; i < count; ++i) {
      pollfd pfd{fd_, POLLIN, 0};
      if (poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) <= 0) return false;
      if (recv(fd_, datagram, sizeof(datagram), 0) < 0) return false;
    }
    return true;
  }
  // Whether any datagram is queued now (no wait).
  bool HasReceived() {
    char datagram[65536];
    return recv(fd_, datagram, sizeof(datagram), MSG_DONTWAIT) >= 0;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string UdpTransport(int rtp_port, absl::string_view extra = "") {
  return absl::StrCat("Transport: RTP/AVP;unicast;client_port=", rtp_port, "-", rtp_port + 1, extra,
                      "\r\n");
}

// SETUP of /cam/stream=0 over UDP to `rtp_port`, then PLAY; true when both
// are answered 200.
::testing::AssertionResult PlayUdp(RtspTestClient& client, int rtp_port) {
  std::string setup = client.Request("SETUP", "/cam/stream=0", UdpTransport(rtp_port));
  if (!IsStatus(setup, 200)) return ::testing::AssertionFailure() << setup;
  std::string session = Header(setup, "Session");
  session = session.substr(0, session.find(';'));
  std::string play = client.Request("PLAY", "/cam", absl::StrCat("Session: ", session, "\r\n"));
  if (!IsStatus(play, 200)) return ::testing::AssertionFailure() << play;
  return ::testing::AssertionSuccess();
}

class RtspListenerHardeningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::MountRawVideo(listener_, "/cam");
    ASSERT_TRUE(listener_.Start().ok());
  }
  int port() const { return static_cast<int>(listener_.bound_port()); }

  RtspListener listener_{"test", "127.0.0.1", 0};
};

// --- Sessions are bound to their connection -----------------------------------

TEST_F(RtspListenerHardeningTest, OtherConnectionNamingASessionGets454AndOwnerKeepsPlaying) {
  RtspTestClient owner(port());
  ASSERT_TRUE(owner.PlayTcp("/cam"));
  ASSERT_TRUE(owner.ReadRtp(3, kTimeout));
  const std::string session_header = absl::StrCat("Session: ", owner.session(), "\r\n");
  {
    RtspTestClient intruder(port());
    // Answered before any check of the session: still not left to end it.
    std::string unknown = intruder.Request("TEARDOWN", "/nothing", session_header);
    EXPECT_TRUE(IsStatus(unknown, 404)) << unknown;
    std::string keepalive = intruder.Request("GET_PARAMETER", "/cam", session_header);
    EXPECT_TRUE(IsStatus(keepalive, 454)) << keepalive;
    std::string pause = intruder.Request("PAUSE", "/cam", session_header);
    EXPECT_TRUE(IsStatus(pause, 454)) << pause;
    std::string teardown = intruder.Request("TEARDOWN", "/cam", session_header);
    EXPECT_TRUE(IsStatus(teardown, 454)) << teardown;
    std::string setup =
        intruder.Request("SETUP", "/cam/stream=0", absl::StrCat(session_header, kTcpTransport));
    EXPECT_TRUE(IsStatus(setup, 454)) << setup;
    std::string play = intruder.Request("PLAY", "/cam", session_header);
    EXPECT_TRUE(IsStatus(play, 454)) << play;
    EXPECT_EQ(Header(play, "Session"), "");
  }  // The intruder's connection closes: that must not end the owner's media.
  EXPECT_TRUE(owner.ReadRtp(30, kTimeout));
  EXPECT_EQ(listener_.ListSessions().size(), 1u);
}

TEST_F(RtspListenerHardeningTest, OwnerConnectionCanStillPauseItsSession) {
  RtspTestClient owner(port());
  ASSERT_TRUE(owner.PlayTcp("/cam"));
  std::string pause = owner.Request("PAUSE", "/cam");
  EXPECT_TRUE(IsStatus(pause, 200)) << pause;
}

// --- UDP transports -------------------------------------------------------------

TEST_F(RtspListenerHardeningTest, UdpDestinationOfAnotherAddressIs461) {
  RtspTestClient client(port());
  std::string setup =
      client.Request("SETUP", "/cam/stream=0", UdpTransport(40000, ";destination=127.0.0.2"));
  EXPECT_TRUE(IsStatus(setup, 461)) << setup;
}

TEST_F(RtspListenerHardeningTest, UdpClientPortBelow1024Is461) {
  RtspTestClient client(port());
  std::string setup = client.Request("SETUP", "/cam/stream=0", UdpTransport(80));
  EXPECT_TRUE(IsStatus(setup, 461)) << setup;
}

TEST_F(RtspListenerHardeningTest, UdpClientPortZeroIs461) {
  RtspTestClient client(port());
  std::string setup = client.Request("SETUP", "/cam/stream=0", UdpTransport(0));
  EXPECT_TRUE(IsStatus(setup, 461)) << setup;
}

TEST_F(RtspListenerHardeningTest, UdpDestinationOfTheOwnAddressIsAccepted) {
  RtspTestClient client(port());
  std::string setup =
      client.Request("SETUP", "/cam/stream=0", UdpTransport(40000, ";destination=127.0.0.1"));
  EXPECT_TRUE(IsStatus(setup, 200)) << setup;
}

// The RTP of a UDP reader goes to its connection's address only, even after
// it asked for another one.
TEST_F(RtspListenerHardeningTest, UdpRtpGoesOnlyToTheConnectionsAddress) {
  UdpSocket reader("127.0.0.1", 0);
  ASSERT_NE(reader.port(), 0);
  UdpSocket elsewhere("127.0.0.2", reader.port());
  ASSERT_NE(elsewhere.port(), 0);
  RtspTestClient client(port());
  std::string refused = client.Request("SETUP", "/cam/stream=0",
                                       UdpTransport(reader.port(), ";destination=127.0.0.2"));
  ASSERT_TRUE(IsStatus(refused, 461)) << refused;

  ASSERT_TRUE(PlayUdp(client, reader.port()));
  EXPECT_TRUE(reader.Receive(10, kTimeout));
  EXPECT_FALSE(elsewhere.HasReceived());
}

// A session is bound to its connection, so nobody can resume it once that
// connection is gone: it ends with the connection, and its UDP media stops
// at once rather than at the session timeout (60 s).
TEST_F(RtspListenerHardeningTest, UdpSessionEndsWithItsConnection) {
  UdpSocket reader("127.0.0.1", 0);
  ASSERT_NE(reader.port(), 0);
  {
    RtspTestClient client(port());
    ASSERT_TRUE(PlayUdp(client, reader.port()));
    ASSERT_TRUE(reader.Receive(10, kTimeout));
    ASSERT_EQ(listener_.ListSessions().size(), 1u);
  }  // the RTSP connection closes
  const absl::Time deadline = absl::Now() + kTimeout;
  while (!listener_.ListSessions().empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(listener_.ListSessions().empty());
  // What was in flight drains; then nothing more arrives.
  while (reader.Receive(1, absl::Milliseconds(300))) {
  }
  EXPECT_FALSE(reader.Receive(1, absl::Seconds(2)));
}

}  // namespace
}  // namespace rtsptest::core
