// RtspListener::ListSessions and KickSessions against real readers on
// loopback: gst-rtsp-server's own RTSP client (rtspsrc) over TCP and UDP, and
// a raw client that counts the RTP it receives.
#include <gst/rtsp-server/rtsp-server.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "core/listener/rtsp_listener.h"
#include "gtest/gtest.h"
#include "tests/core/listener/raw_video_mount.h"
#include "tests/core/listener/rtsp_test_client.h"
#include "tests/util/rtsp_reader.h"

namespace rtsptest::core {
namespace {

using ::rtsptest::testing::RtspProtocol;
using ::rtsptest::testing::RtspReader;
using ::rtsptest::testing::RtspTestClient;

constexpr absl::Duration kTimeout = absl::Seconds(20);

class RtspListenerSessionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* path : {"/cam", "/other"}) testing::MountRawVideo(listener_, path);
    ASSERT_TRUE(listener_.Start().ok());
  }
  int port() const { return static_cast<int>(listener_.bound_port()); }
  std::string Url(absl::string_view path) const {
    return absl::StrCat("rtsp://127.0.0.1:", port(), path);
  }
  std::map<std::string, SessionInfo> SessionsById() const {
    std::map<std::string, SessionInfo> sessions;
    for (SessionInfo& info : listener_.ListSessions()) sessions[info.id] = std::move(info);
    return sessions;
  }

  RtspListener listener_{"test", "127.0.0.1", 0};
};

TEST_F(RtspListenerSessionsTest, NoSessionBeforeAnyPlay) {
  RtspTestClient client(port());
  ASSERT_TRUE(client.connected());
  std::string setup = client.Request("SETUP", "/cam/stream=0",
                                     "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n");
  ASSERT_TRUE(absl::StartsWith(setup, "RTSP/1.0 200")) << setup;
  EXPECT_TRUE(listener_.ListSessions().empty());
}

TEST_F(RtspListenerSessionsTest, ListsTcpAndUdpReadersWithGrowingCounts) {
  const absl::Time start = absl::Now();
  RtspReader tcp(Url("/cam"), RtspProtocol::kTcp);
  RtspReader udp(Url("/cam"), RtspProtocol::kUdp);
  ASSERT_TRUE(tcp.Start().ok());
  ASSERT_TRUE(udp.Start().ok());
  ASSERT_TRUE(tcp.WaitForMedia(3, 0, kTimeout).ok());
  ASSERT_TRUE(udp.WaitForMedia(3, 0, kTimeout).ok());

  std::vector<SessionInfo> first = listener_.ListSessions();
  ASSERT_EQ(first.size(), 2u);
  std::map<std::string, SessionInfo> by_transport;
  for (const SessionInfo& info : first) by_transport[info.transport] = info;
  ASSERT_EQ(by_transport.count("tcp"), 1u);
  ASSERT_EQ(by_transport.count("udp"), 1u);
  for (const auto& [transport, info] : by_transport) {
    SCOPED_TRACE(transport);
    EXPECT_FALSE(info.id.empty());
    EXPECT_EQ(info.path, "/cam");
    EXPECT_TRUE(absl::StartsWith(info.remote, "127.0.0.1:")) << info.remote;
    EXPECT_GT(info.remote.size(), std::string("127.0.0.1:").size()) << info.remote;
    EXPECT_GE(info.since, start);
    EXPECT_LE(info.since, absl::Now());
    EXPECT_GT(info.packets_sent, 0u);
    // Every RTP packet carries at least its 12-byte header.
    EXPECT_GE(info.bytes_sent, info.packets_sent * 12);
  }
  EXPECT_NE(by_transport["tcp"].id, by_transport["udp"].id);
  EXPECT_NE(by_transport["tcp"].remote, by_transport["udp"].remote);

  // Both go on reading; their counts grow.
  ASSERT_TRUE(tcp.WaitForMedia(tcp.media().video_frames + 5, 0, kTimeout).ok());
  ASSERT_TRUE(udp.WaitForMedia(udp.media().video_frames + 5, 0, kTimeout).ok());
  std::map<std::string, SessionInfo> later = SessionsById();
  ASSERT_EQ(later.size(), 2u);
  for (const SessionInfo& before : first) {
    SCOPED_TRACE(before.transport);
    ASSERT_EQ(later.count(before.id), 1u);
    const SessionInfo& after = later[before.id];
    EXPECT_GT(after.packets_sent, before.packets_sent);
    EXPECT_GT(after.bytes_sent, before.bytes_sent);
    EXPECT_EQ(after.since, before.since);
    EXPECT_EQ(after.transport, before.transport);
  }
}

// The TCP counts are what went over the wire: once PAUSE is answered (the
// server stops sending to the reader before it answers) and a later request
// too (so that a packet handed over while PAUSE was handled is read as well),
// the reader has received exactly the packets and bytes the listener counted.
TEST_F(RtspListenerSessionsTest, TcpCountsEqualWhatTheReaderReceived) {
  RtspTestClient client(port());
  ASSERT_TRUE(client.PlayTcp("/cam"));
  ASSERT_TRUE(client.ReadRtp(40, kTimeout));
  std::string pause = client.Request("PAUSE", "/cam");
  ASSERT_TRUE(absl::StartsWith(pause, "RTSP/1.0 200")) << pause;
  std::string keepalive = client.Request("GET_PARAMETER", "/cam");
  ASSERT_TRUE(absl::StartsWith(keepalive, "RTSP/1.0 200")) << keepalive;

  std::vector<SessionInfo> sessions = listener_.ListSessions();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].id, client.session());
  EXPECT_EQ(sessions[0].transport, "tcp");
  EXPECT_EQ(sessions[0].packets_sent, static_cast<uint64_t>(client.rtp_packets()));
  EXPECT_EQ(sessions[0].bytes_sent, static_cast<uint64_t>(client.rtp_bytes()));
}

// Waits for the session observer's "closed" events. The count is shared with
// the observer, which may still be called after this object is gone (the
// readers close when the test ends).
class ClosedSessions {
 public:
  explicit ClosedSessions(RtspListener& listener) : count_(std::make_shared<Count>()) {
    listener.SetSessionObserver([count = count_](const RtspListener::SessionEvent& event) {
      if (event.opened) return;
      absl::MutexLock lock(&count->mutex);
      ++count->closed;
    });
  }
  bool WaitFor(int closed, absl::Duration timeout) {
    Count* count = count_.get();
    auto reached = [count, closed]() { return count->closed >= closed; };
    absl::MutexLock lock(&count->mutex);
    return count->mutex.AwaitWithTimeout(absl::Condition(&reached), timeout);
  }

 private:
  struct Count {
    absl::Mutex mutex;
    int closed = 0;
  };
  std::shared_ptr<Count> count_;
};

TEST_F(RtspListenerSessionsTest, KickBySessionIdClosesOnlyThatSession) {
  ClosedSessions closed(listener_);
  RtspTestClient kicked(port());
  RtspTestClient kept(port());
  ASSERT_TRUE(kicked.PlayTcp("/cam"));
  ASSERT_TRUE(kept.PlayTcp("/cam"));
  ASSERT_NE(kicked.session(), kept.session());

  EXPECT_EQ(listener_.KickSessions(KickSelector::SessionId(kicked.session())), 1);
  EXPECT_TRUE(kicked.WaitForEnd(kTimeout));
  ASSERT_TRUE(closed.WaitFor(1, kTimeout));
  EXPECT_TRUE(kept.ReadRtp(10, kTimeout));
  std::map<std::string, SessionInfo> sessions = SessionsById();
  EXPECT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions.count(kept.session()), 1u);
}

// Two UDP sockets on 127.0.0.1 at an even port and the next one: where a
// raw reader asks for RTP and RTCP.
class UdpPair {
 public:
  UdpPair() {
    for (int attempt = 0; attempt < 50 && rtp_port_ == 0; ++attempt) {
      int rtp = Bind(0);
      int port = PortOf(rtp);
      int rtcp = port % 2 == 0 ? Bind(port + 1) : -1;
      if (rtcp >= 0) {
        rtp_fd_ = rtp;
        rtcp_fd_ = rtcp;
        rtp_port_ = port;
      } else {
        close(rtp);
      }
    }
  }
  ~UdpPair() {
    if (rtp_fd_ >= 0) close(rtp_fd_);
    if (rtcp_fd_ >= 0) close(rtcp_fd_);
  }
  int rtp_port() const { return rtp_port_; }
  // Whether an RTP packet arrives within `timeout`.
  bool Receive(absl::Duration timeout) {
    pollfd pfd{rtp_fd_, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) <= 0) return false;
    char packet[65536];
    return recv(rtp_fd_, packet, sizeof(packet), 0) > 0;
  }
  // Reads whatever arrives until the socket is quiet for `quiet`.
  void Drain(absl::Duration quiet) {
    while (Receive(quiet)) {
    }
  }

 private:
  static int Bind(int port) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }
  static int PortOf(int fd) {
    sockaddr_in addr{};
    socklen_t length = sizeof(addr);
    if (fd < 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) return 0;
    return ntohs(addr.sin_port);
  }

  int rtp_fd_ = -1;
  int rtcp_fd_ = -1;
  int rtp_port_ = 0;
};

// A UDP reader's media does not go over its RTSP connection: kicking it must
// still stop what is sent to it, not just close the connection.
TEST_F(RtspListenerSessionsTest, KickStopsTheMediaOfAUdpSession) {
  UdpPair udp;
  ASSERT_NE(udp.rtp_port(), 0);
  RtspTestClient client(port());
  std::string setup =
      client.Request("SETUP", "/cam/stream=0",
                     absl::StrCat("Transport: RTP/AVP;unicast;client_port=", udp.rtp_port(), "-",
                                  udp.rtp_port() + 1, "\r\n"));
  ASSERT_TRUE(absl::StartsWith(setup, "RTSP/1.0 200")) << setup;
  std::string session = ::rtsptest::testing::Header(setup, "Session");
  session = session.substr(0, session.find(';'));
  std::string play = client.Request("PLAY", "/cam", absl::StrCat("Session: ", session, "\r\n"));
  ASSERT_TRUE(absl::StartsWith(play, "RTSP/1.0 200")) << play;
  ASSERT_TRUE(udp.Receive(kTimeout));
  std::vector<SessionInfo> sessions = listener_.ListSessions();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].transport, "udp");

  EXPECT_EQ(listener_.KickSessions(KickSelector::SessionId(session)), 1);
  EXPECT_TRUE(client.WaitForEnd(kTimeout));
  EXPECT_TRUE(listener_.ListSessions().empty());
  // What was already on its way arrives; then nothing more (the stream sends
  // 30 frames a second).
  udp.Drain(absl::Milliseconds(300));
  EXPECT_FALSE(udp.Receive(absl::Seconds(1)));
}

TEST_F(RtspListenerSessionsTest, KickByPathClosesOnlyReadersOfThatPath) {
  ClosedSessions closed(listener_);
  RtspTestClient cam(port());
  RtspTestClient other(port());
  ASSERT_TRUE(cam.PlayTcp("/cam"));
  ASSERT_TRUE(other.PlayTcp("/other"));

  EXPECT_EQ(listener_.KickSessions(KickSelector::Path("/other")), 1);
  EXPECT_TRUE(other.WaitForEnd(kTimeout));
  ASSERT_TRUE(closed.WaitFor(1, kTimeout));
  EXPECT_TRUE(cam.ReadRtp(10, kTimeout));
  std::vector<SessionInfo> sessions = listener_.ListSessions();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].path, "/cam");
}

TEST_F(RtspListenerSessionsTest, KickAllClosesEverySessionAndUnknownIdNone) {
  RtspTestClient a(port());
  RtspTestClient b(port());
  ASSERT_TRUE(a.PlayTcp("/cam"));
  ASSERT_TRUE(b.PlayTcp("/other"));

  EXPECT_EQ(listener_.KickSessions(KickSelector::SessionId("no-such-session")), 0);
  EXPECT_EQ(listener_.KickSessions(KickSelector::All()), 2);
  EXPECT_TRUE(a.WaitForEnd(kTimeout));
  EXPECT_TRUE(b.WaitForEnd(kTimeout));
}

}  // namespace
}  // namespace rtsptest::core
