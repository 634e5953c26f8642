// RtspListener against clients that send too much or connect too often:
// oversized requests are answered and closed, a flood does not wedge the
// port, the connection limit holds, and running out of descriptors neither
// spins nor kills the port.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/listener/rtsp_listener.h"
#include "gtest/gtest.h"
#include "tests/core/listener/raw_video_mount.h"
#include "tests/core/listener/rtsp_test_client.h"
#include "tests/util/loopback.h"

namespace rtsptest::core {
namespace {

using ::rtsptest::testing::ConnectLoopback;
using ::rtsptest::testing::RtspTestClient;

constexpr absl::Duration kTimeout = absl::Seconds(10);

bool IsStatus(const std::string& response, int code) {
  return absl::StartsWith(response, absl::StrCat("RTSP/1.0 ", code, " "));
}

// Sends `bytes` over a fresh connection until all are sent or the server
// ends the connection. Returns how many bytes went before it ended, or -1
// when everything was sent and the connection is still open.
int64_t SendUntilClosed(int port, const std::string& bytes) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return -2;
  timeval send_timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
  int64_t sent = 0;
  while (sent < static_cast<int64_t>(bytes.size())) {
    ssize_t n = send(fd, bytes.data() + sent, std::min<size_t>(64 * 1024, bytes.size() - sent),
                     MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += n;
  }
  const bool ended = sent < static_cast<int64_t>(bytes.size());
  close(fd);
  return ended ? sent : -1;
}

class RtspListenerLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::MountRawVideo(listener_, "/cam");
    ASSERT_TRUE(listener_.Start().ok());
  }
  int port() const { return static_cast<int>(listener_.bound_port()); }
  // OPTIONS on a new connection, answered within `timeout`.
  bool AnswersOptions(absl::Duration timeout = absl::Seconds(2)) {
    RtspTestClient client(port());
    return IsStatus(client.Request("OPTIONS", "/cam", "", timeout), 200);
  }

  RtspListener listener_{"test", "127.0.0.1", 0};
};

// --- Request limits --------------------------------------------------------------

TEST_F(RtspListenerLimitsTest, AMegabyteHeaderLineIs431AndTheConnectionCloses) {
  RtspTestClient client(port());
  ASSERT_TRUE(client.Send(absl::StrCat("OPTIONS ", client.Url("/cam"), " RTSP/1.0\r\nCSeq: 1\r\n",
                                       "X-Big: ", std::string(1 << 20, 'a'), "\r\n\r\n")) ||
              true);  // the server may close before the last byte is sent
  std::string answer = client.ReadResponse(kTimeout);
  EXPECT_TRUE(IsStatus(answer, 431)) << answer;
  EXPECT_TRUE(client.WaitForEnd(kTimeout));
  EXPECT_EQ(listener_.requests_over_limits(), 1);
  EXPECT_TRUE(AnswersOptions());
}

TEST_F(RtspListenerLimitsTest, AHundredThousandHeadersAre431) {
  RtspTestClient client(port());
  std::string request = absl::StrCat("OPTIONS ", client.Url("/cam"), " RTSP/1.0\r\nCSeq: 1\r\n");
  for (int i = 0; i < 100000; ++i) request += "X: y\r\n";
  client.Send(request + "\r\n");
  std::string answer = client.ReadResponse(kTimeout);
  EXPECT_TRUE(IsStatus(answer, 431)) << answer.substr(0, 200);
  EXPECT_TRUE(client.WaitForEnd(kTimeout));
}

TEST_F(RtspListenerLimitsTest, ALongRequestLineIs414) {
  RtspTestClient client(port());
  client.Send(absl::StrCat("DESCRIBE ", client.Url("/"), std::string(64 * 1024, 'p'),
                           " RTSP/1.0\r\nCSeq: 1\r\n\r\n"));
  std::string answer = client.ReadResponse(kTimeout);
  EXPECT_TRUE(IsStatus(answer, 414)) << answer;
  EXPECT_TRUE(client.WaitForEnd(kTimeout));
}

TEST_F(RtspListenerLimitsTest, AReaderSendingInterleavedFramesIsServedAsBefore) {
  RtspTestClient reader(port());
  ASSERT_TRUE(reader.PlayTcp("/cam"));
  ASSERT_TRUE(reader.ReadRtp(3, kTimeout));
  // An RTCP receiver report's worth on channel 1, then a keep-alive.
  std::string frame = absl::StrCat("$", std::string(1, '\x01'), std::string(1, '\x00'),
                                   std::string(1, '\x20'), std::string(32, '\x81'));
  ASSERT_TRUE(reader.Send(frame));
  std::string keepalive = reader.Request("GET_PARAMETER", "/cam");
  EXPECT_TRUE(IsStatus(keepalive, 200)) << keepalive;
  EXPECT_TRUE(reader.ReadRtp(10, kTimeout));
  EXPECT_EQ(listener_.requests_over_limits(), 0);
}

// Eight connections pour megabytes without a complete request (no line end,
// or endless short lines) while a good client asks OPTIONS: each flooder is
// cut off after a request's worth, the good client is answered throughout,
// and the port answers at once when the flood ends.
TEST_F(RtspListenerLimitsTest, AFloodOfBytesDoesNotWedgeThePort) {
  // 16 MiB each: more than loopback's socket buffers hold, so a flooder
  // that sends it all was never cut off.
  std::string no_line_end(16 << 20, 'A');
  std::string short_lines;
  while (short_lines.size() < (16u << 20)) short_lines += "X-Flood: 0123456789\r\n";
  std::vector<int64_t> sent(8, 0);
  std::vector<std::thread> flooders;
  for (int i = 0; i < 8; ++i) {
    flooders.emplace_back(
        [&, i] { sent[i] = SendUntilClosed(port(), i % 2 == 0 ? no_line_end : short_lines); });
  }
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(AnswersOptions()) << "during the flood, try " << i;
  for (std::thread& flooder : flooders) flooder.join();
  for (int i = 0; i < 8; ++i) EXPECT_GE(sent[i], 0) << "flooder " << i << " was never cut off";
  EXPECT_EQ(listener_.requests_over_limits(), 8);
  const absl::Time flood_over = absl::Now();
  EXPECT_TRUE(AnswersOptions());
  EXPECT_LT(absl::Now() - flood_over, absl::Seconds(2));
}

// --- Connection limit -------------------------------------------------------------

TEST_F(RtspListenerLimitsTest, OneConnectionOverTheLimitIs503AndALaterOneIsServed) {
  listener_.SetMaxConnections(3);
  std::vector<std::unique_ptr<RtspTestClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RtspTestClient>(port()));
    ASSERT_TRUE(IsStatus(held.back()->Request("OPTIONS", "/cam"), 200)) << i;
  }
  RtspTestClient over(port());
  std::string answer = over.ReadResponse(kTimeout);
  EXPECT_TRUE(IsStatus(answer, 503)) << answer;
  EXPECT_TRUE(over.WaitForEnd(kTimeout));
  EXPECT_EQ(listener_.refused_over_limit(), 1);

  held.pop_back();  // one closes; its slot frees once the server sees it
  const absl::Time deadline = absl::Now() + kTimeout;
  while (listener_.connected_clients() > 2 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(AnswersOptions());
}

// --- Readers that stop reading -----------------------------------------------------

// A reader that PLAYs over TCP and never reads is closed once nothing it
// was sent has been acknowledged for 10 s; a reader that reads, and a
// connection with nothing to send, are left alone.
TEST_F(RtspListenerLimitsTest, AReaderThatStopsReadingIsClosedAndCounted) {
  RtspTestClient idle(port());
  ASSERT_TRUE(IsStatus(idle.Request("OPTIONS", "/cam"), 200));
  RtspTestClient good(port());
  ASSERT_TRUE(good.PlayTcp("/cam"));
  std::atomic<bool> stop{false};
  std::atomic<bool> good_ok{true};
  std::thread reading([&] {
    while (!stop.load()) {
      if (!good.ReadRtp(10, kTimeout)) good_ok.store(false);
    }
  });
  RtspTestClient stalled(port());
  ASSERT_TRUE(stalled.PlayTcp("/cam"));  // and never reads again

  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (listener_.stalled_readers_dropped() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  stop.store(true);
  reading.join();
  EXPECT_EQ(listener_.stalled_readers_dropped(), 1);
  EXPECT_TRUE(stalled.WaitForEnd(kTimeout));
  EXPECT_TRUE(good_ok.load());
  EXPECT_TRUE(good.ReadRtp(10, kTimeout));
  EXPECT_TRUE(IsStatus(idle.Request("OPTIONS", "/cam"), 200));
}

// A connection with no session that sends nothing for the idle timeout is
// closed; one with a session, and one that keeps talking, are not.
TEST_F(RtspListenerLimitsTest, ASilentConnectionWithNoSessionIsClosed) {
  listener_.SetIdleTimeout(absl::Seconds(2));
  RtspTestClient silent(port());
  ASSERT_TRUE(IsStatus(silent.Request("OPTIONS", "/cam"), 200));
  RtspTestClient reader(port());
  ASSERT_TRUE(reader.PlayTcp("/cam"));
  RtspTestClient talker(port());
  // The talker's requests, each well within the timeout, keep it open
  // while the silent one passes its timeout.
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(IsStatus(talker.Request("OPTIONS", "/cam"), 200)) << i;
    absl::SleepFor(absl::Seconds(1));  // pacing a client, not waiting for the server
  }
  EXPECT_TRUE(silent.WaitForEnd(kTimeout));
  EXPECT_EQ(listener_.idle_connections_closed(), 1);
  EXPECT_TRUE(reader.ReadRtp(10, kTimeout));
  EXPECT_TRUE(IsStatus(talker.Request("OPTIONS", "/cam"), 200));
}

// --- Out of descriptors ---------------------------------------------------------

// Fills the process's descriptor table (after lowering its soft limit) and
// gives it back on destruction.
class DescriptorExhaustion {
 public:
  DescriptorExhaustion() {
    getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit low = saved_;
    low.rlim_cur = std::min<rlim_t>(saved_.rlim_cur, 4096);
    setrlimit(RLIMIT_NOFILE, &low);
    for (int fd; (fd = dup(STDERR_FILENO)) >= 0;) held_.push_back(fd);
  }
  ~DescriptorExhaustion() { Release(); }
  void Release() {
    for (int fd : held_) close(fd);
    held_.clear();
    setrlimit(RLIMIT_NOFILE, &saved_);
  }
  bool exhausted() const { return !held_.empty() && errno == EMFILE; }

 private:
  rlimit saved_{};
  std::vector<int> held_;
};

TEST_F(RtspListenerLimitsTest, OutOfDescriptorsTheListenerBacksOffAndRecovers) {
  // Client sockets made before the table is full; connecting needs none.
  std::vector<int> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  {
    DescriptorExhaustion exhaustion;
    ASSERT_TRUE(exhaustion.exhausted());
    for (int fd : clients) {
      ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    }
    const absl::Time deadline = absl::Now() + kTimeout;
    while (listener_.accept_failures() == 0 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    ASSERT_GT(listener_.accept_failures(), 0);
    // A measurement window, not a wait for an event: a spinning accept
    // fails hundreds of thousands of times a second; backing off (100 ms,
    // doubling to 1 s), a handful.
    const int64_t before = listener_.accept_failures();
    absl::SleepFor(absl::Seconds(2));
    EXPECT_LE(listener_.accept_failures() - before, 10);
    exhaustion.Release();
  }
  // Descriptors are back: the waiting connections are served within the
  // longest back-off.
  const absl::Time released = absl::Now();
  for (int fd : clients) {
    std::string request = "OPTIONS rtsp://127.0.0.1/cam RTSP/1.0\r\nCSeq: 1\r\n\r\n";
    ASSERT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    timeval receive_timeout{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &receive_timeout, sizeof(receive_timeout));
    char answer[256] = {};
    ASSERT_GT(recv(fd, answer, sizeof(answer) - 1, 0), 0);
    EXPECT_TRUE(IsStatus(answer, 200)) << answer;
    close(fd);
  }
  EXPECT_LT(absl::Now() - released, absl::Seconds(2));
  EXPECT_TRUE(AnswersOptions());
}

}  // namespace
}  // namespace rtsptest::core
