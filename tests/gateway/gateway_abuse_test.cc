// Abuse: 64 slowloris connections, oversized headers and garbage bytes,
// all at once, against a health_gateway following a real server. Meanwhile
// a well-behaved client (curl) gets /health 200 within 100 ms every time;
// the slow connections are cut by the header timeout, oversized requests
// get 431.
//
// Slow bodies: 200 connections each trickling a POST body (reconnecting
// whenever the gateway closes one) against a gateway allowing 150
// connections; /health still answers 200 within 1 s every time, because at
// the limit the gateway sheds the connections whose request has been
// unfinished the longest.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/gateway/gateway_test_util.h"
#include "tests/util/loopback.h"

namespace rtsptest::testing {
namespace {

constexpr int kSlowloris = 64;
constexpr int kOversizeWorkers = 4;
constexpr int kGarbageWorkers = 4;
constexpr absl::Duration kAttack = absl::Seconds(5);
constexpr absl::Duration kHeaderTimeout = absl::Seconds(2);

// Waits up to `timeout` for data or a close; returns what was read, and
// sets `closed` when the peer closed.
std::string ReadSome(int fd, absl::Duration timeout, bool* closed) {
  std::string data;
  absl::Time deadline = absl::Now() + timeout;
  char buffer[4096];
  while (absl::Now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now())) + 1) <= 0)
      continue;
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      *closed = true;
      return data;
    }
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}

TEST(GatewayAbuseTest, HealthStaysFastUnderSlowlorisOversizedHeadersAndGarbage) {
  ServerProcess server;
  ASSERT_TRUE(server.StartWithConfig(ListenersConfig({0, 0, 0, 0})).ok()) << server.output();
  GatewayProcess gateway;
  ASSERT_TRUE(gateway
                  .Start(absl::StrCat("127.0.0.1:", server.grpc_port()),
                         {absl::StrCat("--header_timeout=", absl::FormatDuration(kHeaderTimeout))})
                  .ok())
      << gateway.output();
  ASSERT_EQ(WaitForStatus(gateway.url("/health"), 200, absl::Seconds(10)).status, 200);
  const int port = gateway.http_port();
  const absl::Time end = absl::Now() + kAttack;

  std::atomic<int> slow_connected{0}, slow_cut{0}, oversize_431{0}, oversize_other{0},
      garbage_sent{0}, garbage_200{0};
  std::vector<std::thread> attackers;
  for (int i = 0; i < kSlowloris; ++i) {
    attackers.emplace_back([&, port] {
      int fd = ConnectLoopback(port);
      if (fd < 0) return;
      ++slow_connected;
      std::string start = "GET /health HTTP/1.1\r\nHost: victim\r\nX-Slow: ";
      send(fd, start.data(), start.size(), MSG_NOSIGNAL);
      bool closed = false;
      while (!closed && absl::Now() < end) {
        // One byte every 250 ms: never idle, never done.
        if (send(fd, "a", 1, MSG_NOSIGNAL) != 1) {
          closed = true;
          break;
        }
        ReadSome(fd, absl::Milliseconds(250), &closed);
      }
      if (closed) ++slow_cut;
      close(fd);
    });
  }
  for (int i = 0; i < kOversizeWorkers; ++i) {
    attackers.emplace_back([&, port] {
      const std::string request = absl::StrCat("GET /health HTTP/1.1\r\nHost: victim\r\nX-Big: ",
                                               std::string(256 * 1024, 'x'), "\r\n\r\n");
      while (absl::Now() < end) {
        int fd = ConnectLoopback(port);
        if (fd < 0) continue;
        send(fd, request.data(), request.size(), MSG_NOSIGNAL);
        bool closed = false;
        std::string reply = ReadSome(fd, absl::Seconds(1), &closed);
        (absl::StartsWith(reply, "HTTP/1.1 431 ") ? oversize_431 : oversize_other)++;
        close(fd);
      }
    });
  }
  for (int i = 0; i < kGarbageWorkers; ++i) {
    attackers.emplace_back([&, port, seed = i] {
      std::mt19937 random(seed);
      while (absl::Now() < end) {
        int fd = ConnectLoopback(port);
        if (fd < 0) continue;
        std::string bytes(2048, '\0');
        for (char& c : bytes) c = static_cast<char>(random());
        send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        ++garbage_sent;
        bool closed = false;
        std::string reply = ReadSome(fd, absl::Milliseconds(300), &closed);
        if (absl::StartsWith(reply, "HTTP/1.1 200")) ++garbage_200;
        close(fd);
      }
    });
  }

  // The well-behaved client, while all of the above goes on.
  absl::SleepFor(absl::Milliseconds(300));
  std::vector<absl::Duration> latencies;
  while (absl::Now() < end - absl::Milliseconds(300)) {
    HttpReply reply = Curl(gateway.url("/health"), {}, absl::Seconds(2));
    EXPECT_EQ(reply.status, 200) << reply.body << reply.error;
    EXPECT_LT(reply.time_total, absl::Milliseconds(100));
    latencies.push_back(reply.time_total);
    absl::SleepFor(absl::Milliseconds(50));
  }
  for (std::thread& attacker : attackers) attacker.join();

  std::sort(latencies.begin(), latencies.end());
  ASSERT_GE(latencies.size(), 10u);
  std::cerr << "well-behaved /health under attack: " << latencies.size() << " requests, median "
            << absl::FormatDuration(latencies[latencies.size() / 2]) << ", max "
            << absl::FormatDuration(latencies.back()) << "; slowloris " << slow_connected
            << " connected, " << slow_cut << " cut by the server; oversized: " << oversize_431
            << " x 431, " << oversize_other << " other; garbage connections: " << garbage_sent
            << "\n";
  EXPECT_EQ(slow_connected.load(), kSlowloris);
  // Every slow connection was cut at the header timeout, long before the
  // attack's end.
  EXPECT_EQ(slow_cut.load(), kSlowloris);
  EXPECT_GT(oversize_431.load(), 0);
  EXPECT_GT(garbage_sent.load(), 0);
  EXPECT_EQ(garbage_200.load(), 0);
  // Still healthy afterwards.
  EXPECT_EQ(Curl(gateway.url("/health")).status, 200);
}

constexpr int kSlowBodies = 200;
constexpr int kSlowBodyMaxConnections = 150;

// Opens a connection and sends a POST's headers promising a body that will
// arrive a byte at a time. -1 when the connection fails.
int OpenSlowBody(int port) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return -1;
  const std::string head = "POST /health HTTP/1.1\r\nHost: victim\r\nContent-Length: 1000\r\n\r\n";
  send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  return fd;
}

TEST(GatewayAbuseTest, HealthAnswersWithinASecondWhileSlowBodiesFillEverySlot) {
  ServerProcess server;
  ASSERT_TRUE(server.StartWithConfig(ListenersConfig({0})).ok()) << server.output();
  GatewayProcess gateway;
  // A request timeout longer than the test: only shedding at the connection
  // limit can let the health checks in.
  ASSERT_TRUE(gateway
                  .Start(absl::StrCat("127.0.0.1:", server.grpc_port()),
                         {absl::StrCat("--max_connections=", kSlowBodyMaxConnections),
                          "--request_timeout=60s", "--header_timeout=60s", "--idle_timeout=60s"})
                  .ok())
      << gateway.output();
  ASSERT_EQ(WaitForStatus(gateway.url("/health"), 200, absl::Seconds(10)).status, 200);
  const int port = gateway.http_port();

  std::vector<int> fds;
  for (int i = 0; i < kSlowBodies; ++i) {
    int fd = OpenSlowBody(port);
    ASSERT_GE(fd, 0) << "connection " << i;
    fds.push_back(fd);
  }
  // One thread trickles a body byte into every connection every 250 ms and
  // replaces each one the gateway closes, so that 200 always press on 150
  // slots.
  absl::Notification stop;
  std::atomic<int> replaced{0};
  absl::Notification shed;  // The trickler found a connection the gateway closed.
  std::atomic<int> answered{0};
  std::thread trickler([&] {
    do {
      for (int& fd : fds) {
        pollfd p{fd, POLLIN, 0};
        bool gone = poll(&p, 1, 0) > 0;
        if (gone) {
          char buffer[512];
          if (recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT) > 0) ++answered;
        }
        if (gone || send(fd, "b", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
          close(fd);
          fd = OpenSlowBody(port);
          if (replaced.fetch_add(1) == 0) shed.Notify();
        }
      }
    } while (!stop.WaitForNotificationWithTimeout(absl::Milliseconds(250)));
  });

  std::vector<absl::Duration> latencies;
  for (int i = 0; i < 10; ++i) {
    HttpReply reply = Curl(gateway.url("/health"), {}, absl::Seconds(3));
    EXPECT_EQ(reply.status, 200) << reply.body << reply.error;
    EXPECT_LT(reply.time_total, absl::Seconds(1));
    latencies.push_back(reply.time_total);
  }
  // The checks may all be answered before the trickler's next pass (every
  // 250 ms) sees the connections shed to let them in: wait for that pass.
  const bool saw_shedding = shed.WaitForNotificationWithTimeout(absl::Seconds(3));
  stop.Notify();
  trickler.join();
  for (int fd : fds) {
    if (fd >= 0) close(fd);
  }
  std::sort(latencies.begin(), latencies.end());
  std::cerr << "/health with " << kSlowBodies << " slow bodies on " << kSlowBodyMaxConnections
            << " slots: median " << absl::FormatDuration(latencies[latencies.size() / 2])
            << ", max " << absl::FormatDuration(latencies.back()) << "; slow connections replaced "
            << replaced << "\n";
  // The gateway was full and shed slow bodies to let the checks in; none of
  // them got an answer (their bodies never completed).
  EXPECT_TRUE(saw_shedding) << "no slow connection was closed within 3 s of the checks";
  EXPECT_EQ(answered.load(), 0);
}

}  // namespace
}  // namespace rtsptest::testing
