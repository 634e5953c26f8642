// HttpServer: HEAD, keep-alive, and the limits —
// 431 for oversized headers, 414 for a huge request line, 413 for a body,
// 400 for a GET with a body, the header and request timeouts against slow
// clients, shedding at the connection limit, garbage bytes. Real sockets and
// the curl binary; the handler is a fixed one.
#include "gateway/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/gateway/gateway_test_util.h"
#include "tests/util/loopback.h"

namespace rtsptest::gateway {
namespace {

using testing::ConnectLoopback;
using testing::Curl;
using testing::HttpReply;
using testing::RunProgram;

// Reads until the peer closes or `timeout` passes. `closed` tells which.
std::string ReadUntilClosed(int fd, absl::Duration timeout, bool* closed) {
  std::string data;
  absl::Time deadline = absl::Now() + timeout;
  *closed = false;
  char buffer[4096];
  while (absl::Now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    int ready =
        poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now())) + 1);
    if (ready <= 0) continue;
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      *closed = true;
      break;
    }
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}

// Sends `head`, then one `byte` every 100 ms until the server closes the
// connection or `limit` passes; closes `fd`. What came back, and how long.
struct Trickled {
  std::string reply;
  absl::Duration took;
  bool closed = false;  // by the server
};
Trickled TrickleUntilClosed(int fd, absl::string_view head, char byte, absl::Duration limit) {
  const absl::Time start = absl::Now();
  send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  Trickled result;
  while (!result.closed && absl::Now() - start < limit) {
    if (send(fd, &byte, 1, MSG_NOSIGNAL) != 1) break;
    result.reply += ReadUntilClosed(fd, absl::Milliseconds(100), &result.closed);
  }
  result.took = absl::Now() - start;
  close(fd);
  return result;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options) {
    options.bind_address = "127.0.0.1";
    options.port = 0;
    absl::StatusOr<std::unique_ptr<HttpServer>> server =
        HttpServer::Start(options, [this](const HttpRequest& request) {
          ++requests_;
          HttpResponse response;
          auto q = request.query.find("q");
          response.body = absl::StrCat("hello ", request.path, " ",
                                       q == request.query.end() ? "" : q->second, "\n");
          return response;
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  std::string Url(const std::string& path) {
    return absl::StrCat("http://127.0.0.1:", server_->port(), path);
  }

  std::atomic<int> requests_{0};
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, GetPassesPathAndQuery) {
  StartServer({});
  HttpReply reply = Curl(Url("/x?q=42"));
  EXPECT_EQ(reply.status, 200) << reply.error;
  EXPECT_EQ(reply.body, "hello /x 42\n");
}

TEST_F(HttpServerTest, HeadSendsLengthButNoBody) {
  StartServer({});
  HttpReply reply = Curl(Url("/x"), {"-I"});
  EXPECT_EQ(reply.status, 200) << reply.error;
  EXPECT_EQ(reply.headers["content-length"], "10");
  EXPECT_EQ(reply.body, "");
}

TEST_F(HttpServerTest, KeepAliveReusesTheConnection) {
  StartServer({});
  testing::ProgramResult run = RunProgram(
      "/usr/bin/curl", {"-sv", "--max-time", "5", Url("/a"), Url("/b")}, absl::Seconds(7));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "hello /a \nhello /b \n");
  EXPECT_TRUE(absl::StrContains(run.err, "Re-using existing connection")) << run.err;
}

TEST_F(HttpServerTest, OversizedHeadersGet431) {
  HttpServerOptions options;
  options.max_header_bytes = 8 * 1024;
  StartServer(options);
  int fd = ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  std::string request = absl::StrCat(
      "GET /x HTTP/1.1\r\nHost: h\r\nX-Big: ", std::string(64 * 1024, 'a'), "\r\n\r\n");
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  bool closed = false;
  std::string reply = ReadUntilClosed(fd, absl::Seconds(5), &closed);
  close(fd);
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 431 ")) << reply;
  EXPECT_TRUE(closed);
  EXPECT_EQ(requests_.load(), 0);
}

TEST_F(HttpServerTest, HugeRequestLineGets414) {
  StartServer({});
  int fd = ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  std::string request =
      absl::StrCat("GET /x?q=", std::string(64 * 1024, 'a'), " HTTP/1.1\r\nHost: h\r\n\r\n");
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  bool closed = false;
  std::string reply = ReadUntilClosed(fd, absl::Seconds(5), &closed);
  close(fd);
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 414 ")) << reply;
}

TEST_F(HttpServerTest, DeclaredLargePostBodyGets413AndClose) {
  StartServer({});
  HttpReply reply =
      Curl(Url("/x"), {"-X", "POST", "-H", "Content-Length: 100000", "-H", "Expect:"});
  EXPECT_EQ(reply.status, 413) << reply.error;
  EXPECT_EQ(reply.headers["connection"], "close");
  EXPECT_EQ(requests_.load(), 0);
}

TEST_F(HttpServerTest, SmallPostBodyIsDiscardedAndTheHandlerAnswers) {
  StartServer({});
  HttpReply reply = Curl(Url("/x"), {"--data", "abc"});
  EXPECT_EQ(reply.status, 200) << reply.error;
  EXPECT_EQ(requests_.load(), 1);
}

TEST_F(HttpServerTest, GetWithABodyGets400AndClose) {
  StartServer({});
  HttpReply reply = Curl(Url("/x"), {"--data", "abc", "-X", "GET"});
  EXPECT_EQ(reply.status, 400) << reply.error;
  EXPECT_EQ(reply.headers["connection"], "close");
  EXPECT_EQ(requests_.load(), 0);
}

TEST_F(HttpServerTest, ChunkedHeadGets400AndClose) {
  StartServer({});
  int fd = ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  std::string request = "HEAD /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  bool closed = false;
  std::string reply = ReadUntilClosed(fd, absl::Seconds(3), &closed);
  close(fd);
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 400 ")) << reply;
  EXPECT_TRUE(closed);
  EXPECT_EQ(requests_.load(), 0);
}

TEST_F(HttpServerTest, GetWithATrickledBodyGets400AtOnceAndIsClosed) {
  // The request timeout stays at its 10 s default: the refusal must not wait
  // for it, nor for a byte of the body.
  StartServer({});
  int fd = ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  // One body byte every 100 ms, until the server answers and closes.
  auto [reply, took, closed] = TrickleUntilClosed(
      fd, "GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n", 'b', absl::Seconds(1));
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 400 ")) << reply;
  EXPECT_TRUE(absl::StrContains(reply, "GET and HEAD requests carry no body")) << reply;
  EXPECT_TRUE(closed) << "the connection stayed open for " << took;
  EXPECT_LT(took, absl::Seconds(1));
  EXPECT_EQ(requests_.load(), 0);
}

TEST_F(HttpServerTest, SlowPostBodyIsCutAtTheRequestTimeout) {
  HttpServerOptions options;
  options.header_timeout = absl::Seconds(10);
  options.request_timeout = absl::Milliseconds(600);
  StartServer(options);
  int fd = ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  // One body byte every 100 ms: never idle, never finished.
  auto [reply, took, closed] = TrickleUntilClosed(
      fd, "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n", 'b', absl::Seconds(5));
  EXPECT_EQ(reply, "");
  // Headers were complete at once: only the request timeout can have cut it.
  EXPECT_GE(took, absl::Milliseconds(500));
  EXPECT_LT(took, absl::Seconds(2)) << "a slow body kept its connection for " << took;
  EXPECT_EQ(requests_.load(), 0);
}

TEST_F(HttpServerTest, UnknownMethodWithASlowBodyIsCutAtTheRequestTimeout) {
  HttpServerOptions options;
  options.request_timeout = absl::Milliseconds(600);
  StartServer(options);
  int fd = ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  auto [reply, took, closed] = TrickleUntilClosed(
      fd, "BREW /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n", 'b',
      absl::Seconds(5));
  EXPECT_EQ(reply, "");
  EXPECT_LT(took, absl::Seconds(2)) << "a slow chunked body kept its connection for " << took;
  EXPECT_EQ(requests_.load(), 0);
}

TEST_F(HttpServerTest, SlowHeadersAreCutAtTheHeaderTimeout) {
  HttpServerOptions options;
  options.header_timeout = absl::Milliseconds(600);
  StartServer(options);
  int fd = ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  // One byte every 100 ms: never idle, never finished.
  absl::Duration took =
      TrickleUntilClosed(fd, "GET /x HTTP/1.1\r\nHost: h\r\nX-Slow: ", 'a', absl::Seconds(5)).took;
  EXPECT_LT(took, absl::Seconds(2)) << "a slow client kept its connection for " << took;
  EXPECT_EQ(requests_.load(), 0);
}

TEST_F(HttpServerTest, ASilentConnectionIsStillCutAtTheHeaderTimeout) {
  // Not a byte sent: no request, so the header timeout applies from accept.
  HttpServerOptions options;
  options.header_timeout = absl::Milliseconds(600);
  StartServer(options);
  int fd = ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  bool closed = false;
  const absl::Time start = absl::Now();
  EXPECT_EQ(ReadUntilClosed(fd, absl::Seconds(5), &closed), "");
  const absl::Duration took = absl::Now() - start;
  close(fd);
  EXPECT_TRUE(closed) << "a silent connection stayed open for " << took;
  EXPECT_GE(took, absl::Milliseconds(500));
  // Still served after it.
  EXPECT_EQ(Curl(Url("/after")).status, 200);
}

TEST_F(HttpServerTest, GarbageGetsAnErrorOrAClose) {
  HttpServerOptions options;
  options.header_timeout = absl::Seconds(1);
  StartServer(options);
  for (const std::string& garbage :
       {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),
        std::string("BLAH\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
        std::string("\x00\x01\x02\xff\xfe garbage\r\n\r\n", 17)}) {
    int fd = ConnectLoopback(server_->port());
    ASSERT_GE(fd, 0);
    send(fd, garbage.data(), garbage.size(), MSG_NOSIGNAL);
    bool closed = false;
    std::string reply = ReadUntilClosed(fd, absl::Seconds(3), &closed);
    close(fd);
    EXPECT_TRUE(closed || absl::StartsWith(reply, "HTTP/1.1 4")) << reply;
    EXPECT_FALSE(absl::StartsWith(reply, "HTTP/1.1 200")) << reply;
  }
  // And the server still answers.
  EXPECT_EQ(Curl(Url("/after")).status, 200);
}

TEST_F(HttpServerTest, AtTheLimitTheOldestUnfinishedConnectionMakesRoomForAWaitingOne) {
  HttpServerOptions options;
  options.max_connections = 4;
  options.threads = 1;
  StartServer(options);
  // Fill every slot with an idle keep-alive connection (each one answered,
  // so each is surely accepted), oldest first.
  const std::string keep_alive = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) {
    int fd = ConnectLoopback(server_->port());
    ASSERT_GE(fd, 0);
    send(fd, keep_alive.data(), keep_alive.size(), MSG_NOSIGNAL);
    std::string answer;
    bool closed = false;
    while (!absl::StrContains(answer, "hello /x \n") && !closed) {
      answer += ReadUntilClosed(fd, absl::Milliseconds(100), &closed);
    }
    ASSERT_FALSE(closed) << answer;
    held.push_back(fd);
  }
  // The kernel's backlog takes the fifth; the sweeper sheds the connection
  // that has waited longest for a request, and the server accepts the fifth.
  absl::Time start = absl::Now();
  int extra = ConnectLoopback(server_->port());
  ASSERT_GE(extra, 0);
  std::string request = "GET /y HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  send(extra, request.data(), request.size(), MSG_NOSIGNAL);
  bool closed = false;
  std::string reply = ReadUntilClosed(extra, absl::Seconds(3), &closed);
  absl::Duration took = absl::Now() - start;
  close(extra);
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 200 ")) << reply;
  EXPECT_LT(took, absl::Seconds(1));
  bool oldest_closed = false;
  EXPECT_EQ(ReadUntilClosed(held[0], absl::Seconds(1), &oldest_closed), "");
  EXPECT_TRUE(oldest_closed);
  bool newest_closed = false;
  ReadUntilClosed(held[3], absl::Milliseconds(200), &newest_closed);
  EXPECT_FALSE(newest_closed);
  for (int fd : held) close(fd);
}

TEST(HttpServerStartTest, RejectsABadBindAddress) {
  HttpServerOptions options;
  options.bind_address = "not-an-address";
  auto server = HttpServer::Start(options, [](const HttpRequest&) { return HttpResponse(); });
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HttpServerStartTest, PortInUseIsUnavailable) {
  HttpServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = 0;
  auto first = HttpServer::Start(options, [](const HttpRequest&) { return HttpResponse(); });
  ASSERT_TRUE(first.ok());
  options.port = (*first)->port();
  auto second = HttpServer::Start(options, [](const HttpRequest&) { return HttpResponse(); });
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace rtsptest::gateway
