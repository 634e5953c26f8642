// HttpConnection without a socket: what a client's bytes turn into — handler
// calls, responses, and the phase the server's timeouts follow.
#include "gateway/http_connection.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace rtsptest::gateway {
namespace {

using Phase = HttpConnection::Phase;

class HttpConnectionTest : public ::testing::Test {
 protected:
  HttpConnectionTest()
      : handler_([this](const HttpRequest& request) {
          requests_.push_back(request);
          HttpResponse response;
          response.body = absl::StrCat("hello ", request.path, "\n");
          return response;
        }),
        connection_(HttpConnectionLimits{1024, 16, false}, &handler_, "192.0.2.1") {}

  // Sends all pending output, as a socket that takes everything would.
  std::string Drain() {
    std::string out;
    while (!connection_.output().empty()) {
      out += std::string(connection_.output());
      connection_.Sent(connection_.output().size());
    }
    return out;
  }

  std::vector<HttpRequest> requests_;
  HttpHandler handler_;
  HttpConnection connection_;
};

TEST_F(HttpConnectionTest, AnswersARequestAndWaitsForTheNext) {
  connection_.Receive("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(connection_.phase(), Phase::kResponding);
  const std::string out = Drain();
  EXPECT_TRUE(absl::StartsWith(out, "HTTP/1.1 200 OK\r\n")) << out;
  EXPECT_TRUE(absl::EndsWith(out, "\r\n\r\nhello /a\n")) << out;
  EXPECT_EQ(connection_.phase(), Phase::kHeaders);
  EXPECT_EQ(connection_.responses(), 1u);
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(requests_[0].remote, "192.0.2.1");
}

TEST_F(HttpConnectionTest, PipelinedRequestsAreAnsweredInOrderOneAtATime) {
  connection_.Receive(
      "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c HTTP/1.1\r\n");
  EXPECT_EQ(requests_.size(), 1u) << "the second waits until the first answer is sent";
  const std::string out = Drain();
  EXPECT_EQ(requests_.size(), 2u);
  EXPECT_TRUE(absl::StrContains(out, "hello /a\nHTTP/1.1 200 OK")) << out;
  EXPECT_TRUE(absl::EndsWith(out, "hello /b\n")) << out;
  EXPECT_EQ(connection_.phase(), Phase::kHeaders);
  connection_.Receive("Host: h\r\n\r\n");
  EXPECT_TRUE(absl::EndsWith(Drain(), "hello /c\n"));
}

TEST_F(HttpConnectionTest, AResponseSentInPiecesCompletesOnce) {
  connection_.Receive("GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  const size_t size = connection_.output().size();
  connection_.Sent(size - 1);
  EXPECT_EQ(connection_.phase(), Phase::kResponding);
  EXPECT_EQ(connection_.output().size(), 1u);
  connection_.Sent(1);
  EXPECT_EQ(connection_.phase(), Phase::kClosing);
  EXPECT_EQ(connection_.responses(), 1u);
}

TEST_F(HttpConnectionTest, HeadGetsTheHeadersOnly) {
  connection_.Receive("HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n");
  const std::string out = Drain();
  EXPECT_TRUE(absl::StrContains(out, "Content-Length: 9\r\n")) << out;
  EXPECT_TRUE(absl::EndsWith(out, "\r\n\r\n")) << out;
}

TEST_F(HttpConnectionTest, ABodyWithinTheLimitIsSkippedThenTheHandlerAnswers) {
  connection_.Receive("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n01234");
  EXPECT_EQ(connection_.phase(), Phase::kBody);
  EXPECT_TRUE(requests_.empty());
  connection_.Receive("56789GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(requests_.size(), 1u);
  Drain();
  ASSERT_EQ(requests_.size(), 2u);
  EXPECT_EQ(requests_[1].path, "/b");
}

TEST_F(HttpConnectionTest, AChunkedBodyOverTheLimitGets413AndCloses) {
  connection_.Receive("POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  connection_.Receive("20\r\n");
  EXPECT_EQ(connection_.phase(), Phase::kBody);
  connection_.Receive(std::string(20, 'x'));
  const std::string out = Drain();
  EXPECT_TRUE(absl::StartsWith(out, "HTTP/1.1 413 ")) << out;
  EXPECT_TRUE(absl::StrContains(out, "Connection: close\r\n")) << out;
  EXPECT_EQ(connection_.phase(), Phase::kClosing);
  EXPECT_TRUE(requests_.empty());
}

TEST_F(HttpConnectionTest, RefusalsCloseWithTheirStatusAndNeverReachTheHandler) {
  struct Case {
    std::string bytes;
    std::string status_line;
  };
  for (const Case& c : std::vector<Case>{
           {"GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n", "HTTP/1.1 400 "},
           {"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n", "HTTP/1.1 413 "},
           {absl::StrCat("GET /", std::string(2000, 'a')), "HTTP/1.1 414 "},
           {absl::StrCat("GET / HTTP/1.1\r\nX: ", std::string(2000, 'a')), "HTTP/1.1 431 "},
           {"\x16\x03\x01\x02\x00", "HTTP/1.1 400 "},
           {"GET / HTTP/3.0\r\n\r\n", "HTTP/1.1 505 "},
           {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", "HTTP/1.1 501 "},
       }) {
    HttpConnection connection(HttpConnectionLimits{1024, 16, false}, &handler_, "192.0.2.1");
    connection.Receive(c.bytes);
    ASSERT_EQ(connection.phase(), Phase::kResponding) << c.bytes.substr(0, 60);
    const std::string out(connection.output());
    EXPECT_TRUE(absl::StartsWith(out, c.status_line)) << out;
    EXPECT_TRUE(absl::StrContains(out, "Connection: close\r\n")) << out;
    connection.Sent(out.size());
    EXPECT_EQ(connection.phase(), Phase::kClosing);
    connection.Receive("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_TRUE(connection.output().empty()) << "a closing connection answers nothing more";
  }
  EXPECT_TRUE(requests_.empty());
}

TEST_F(HttpConnectionTest, AHeadThatIsStillShortOfTheLimitWaits) {
  connection_.Receive(absl::StrCat("GET / HTTP/1.1\r\nX: ", std::string(900, 'a')));
  EXPECT_EQ(connection_.phase(), Phase::kHeaders);
  EXPECT_TRUE(connection_.output().empty());
}

TEST_F(HttpConnectionTest, HttpOneZeroClosesUnlessAskedToKeepAlive) {
  connection_.Receive("GET /a HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(absl::StrContains(Drain(), "Connection: close\r\n"));
  EXPECT_EQ(connection_.phase(), Phase::kClosing);

  HttpConnection kept(HttpConnectionLimits{}, &handler_, "192.0.2.1");
  kept.Receive("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  const std::string out(kept.output());
  kept.Sent(out.size());
  EXPECT_TRUE(absl::StrContains(out, "Connection: keep-alive\r\n")) << out;
  EXPECT_EQ(kept.phase(), Phase::kHeaders);
}

}  // namespace
}  // namespace rtsptest::gateway
