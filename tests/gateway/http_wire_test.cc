// http_wire: request heads as clients send them (and as attackers do),
// bodies by length and chunked, response heads.
#include "gateway/http_wire.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace rtsptest::gateway {
namespace {

// Parses `head`; the error status, or 0 when it parses.
int StatusOf(const std::string& head, HttpRequestHead* parsed = nullptr) {
  HttpRequestHead ignored;
  HttpRequestError error;
  return ParseRequestHead(head, parsed != nullptr ? parsed : &ignored, &error) ? 0 : error.status;
}

TEST(FindHeadEndTest, FindsTheEmptyLineAfterCrlfOrBareLf) {
  size_t scanned = 0;
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nHost: h\r\n\r\nbody", &scanned), 27u);
  scanned = 0;
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\nHost: h\n\nbody", &scanned), 24u);
}

TEST(FindHeadEndTest, AHeadArrivingAByteAtATimeIsFoundAtItsLastByte) {
  const std::string head = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  std::string buffer;
  size_t scanned = 0;
  for (size_t i = 0; i < head.size(); ++i) {
    buffer.push_back(head[i]);
    const size_t end = FindHeadEnd(buffer, &scanned);
    if (i + 1 < head.size()) {
      EXPECT_EQ(end, std::string::npos) << "after " << i + 1 << " bytes";
    } else {
      EXPECT_EQ(end, head.size());
    }
  }
}

TEST(CouldStartRequestHeadTest, RefusesBinaryBeforeTheMethodEnds) {
  EXPECT_TRUE(CouldStartRequestHead("GE"));
  EXPECT_TRUE(CouldStartRequestHead("GET /x\x01"));  // the target is checked later
  EXPECT_FALSE(CouldStartRequestHead("\x16\x03\x01"));
  EXPECT_FALSE(CouldStartRequestHead("GE\xff"));
}

TEST(ParseRequestHeadTest, ParsesMethodPathQueryHostAndKeepAlive) {
  HttpRequestHead head;
  ASSERT_EQ(StatusOf("\r\nGET /a%20b?detailed=true&x=1+2&x=3&flag HTTP/1.1\r\n"
                     "hOsT: example:8080\r\n\r\n",
                     &head),
            0);
  EXPECT_EQ(head.request.method, "GET");
  EXPECT_EQ(head.request.path, "/a b");
  EXPECT_EQ(head.request.query.at("detailed"), "true");
  EXPECT_EQ(head.request.query.at("x"), "3");
  EXPECT_EQ(head.request.query.at("flag"), "");
  EXPECT_EQ(head.request.host, "example:8080");
  EXPECT_TRUE(head.keep_alive);
  EXPECT_EQ(head.body, HttpRequestHead::Body::kNone);
}

TEST(ParseRequestHeadTest, AbsoluteFormTargetKeepsOnlyThePath) {
  HttpRequestHead head;
  ASSERT_EQ(StatusOf("GET http://h:8080/health?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", &head), 0);
  EXPECT_EQ(head.request.path, "/health");
  EXPECT_EQ(head.request.query.at("x"), "1");
}

TEST(ParseRequestHeadTest, ConnectionHeaderAndVersionDecideKeepAlive) {
  HttpRequestHead head;
  ASSERT_EQ(StatusOf("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n", &head), 0);
  EXPECT_FALSE(head.keep_alive);
  ASSERT_EQ(StatusOf("GET / HTTP/1.0\r\n\r\n", &head), 0);
  EXPECT_FALSE(head.keep_alive);
  ASSERT_EQ(StatusOf("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &head), 0);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_EQ(head.minor_version, 0);
}

TEST(ParseRequestHeadTest, BodiesByLengthOrChunked) {
  HttpRequestHead head;
  ASSERT_EQ(StatusOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n", &head), 0);
  EXPECT_EQ(head.body, HttpRequestHead::Body::kLength);
  EXPECT_EQ(head.content_length, 12u);
  ASSERT_EQ(StatusOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", &head), 0);
  EXPECT_EQ(head.body, HttpRequestHead::Body::kNone);
  ASSERT_EQ(StatusOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n", &head), 0);
  EXPECT_EQ(head.body, HttpRequestHead::Body::kChunked);
}

TEST(ParseRequestHeadTest, RefusesWhatCouldMeanTwoThings) {
  const std::string h = "Host: h\r\n";
  EXPECT_EQ(StatusOf("GET / HTTP/1.1\r\n\r\n"), 400) << "HTTP/1.1 without Host";
  EXPECT_EQ(StatusOf("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  EXPECT_EQ(StatusOf("POST / HTTP/1.1\r\n" + h + "Content-Length: 3\r\nContent-Length: 4\r\n\r\n"),
            400);
  EXPECT_EQ(StatusOf("POST / HTTP/1.1\r\n" + h + "Content-Length: 3\r\nContent-Length: 3\r\n\r\n"),
            0);
  EXPECT_EQ(StatusOf("POST / HTTP/1.1\r\n" + h + "Content-Length: -1\r\n\r\n"), 400);
  EXPECT_EQ(StatusOf("POST / HTTP/1.1\r\n" + h + "Content-Length: 3, 3\r\n\r\n"), 400);
  EXPECT_EQ(StatusOf("POST / HTTP/1.1\r\n" + h + "Content-Length: 99999999999999999999999\r\n\r\n"),
            400);
  EXPECT_EQ(StatusOf("POST / HTTP/1.1\r\n" + h +
                     "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
            400);
  EXPECT_EQ(StatusOf("POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip, chunked\r\n\r\n"), 501);
  EXPECT_EQ(StatusOf("GET / HTTP/1.1\r\n" + h + "X-A: 1\r\n folded\r\n\r\n"), 400);
  EXPECT_EQ(StatusOf("GET / HTTP/1.1\r\n" + h + "X-A : 1\r\n\r\n"), 400);
  EXPECT_EQ(StatusOf("GET / HTTP/1.1\r\n" + h + "X-A: 1\r2\r\n\r\n"), 400);
  EXPECT_EQ(StatusOf("GET / HTTP/1.1\r\n" + h + "no colon\r\n\r\n"), 400);
}

TEST(ParseRequestHeadTest, RefusesMalformedRequestLines) {
  EXPECT_EQ(StatusOf("BLAH\r\n\r\n"), 400);
  EXPECT_EQ(StatusOf("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(StatusOf("GET nopath HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(StatusOf("GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(StatusOf("G(T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(StatusOf("GET / HTTP/1.1x\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(StatusOf("GET / HTTP/9.9\r\n\r\n"), 505);
  EXPECT_EQ(StatusOf("GET / HTTP/2.0\r\n\r\n"), 505);
}

// Feeds `bytes` to a skipper for `head` in pieces of `piece` bytes; how many
// it took in all.
size_t FeedInPieces(BodySkipper& skipper, const std::string& bytes, size_t piece) {
  size_t used = 0;
  for (size_t i = 0; i < bytes.size() && !skipper.done() && !skipper.failed(); i += piece) {
    const size_t n = skipper.Feed(absl::string_view(bytes).substr(i, piece));
    used += n;
    if (n < std::min(piece, bytes.size() - i)) break;
  }
  return used;
}

TEST(BodySkipperTest, ALengthBodyEndsAtItsLengthWhateverThePieces) {
  HttpRequestHead head;
  head.body = HttpRequestHead::Body::kLength;
  head.content_length = 5;
  for (size_t piece : {1u, 2u, 100u}) {
    BodySkipper skipper(head);
    EXPECT_EQ(FeedInPieces(skipper, "helloGET / HTTP/1.1", piece), 5u) << piece;
    EXPECT_TRUE(skipper.done());
    EXPECT_EQ(skipper.data_bytes(), 5u);
  }
}

TEST(BodySkipperTest, AChunkedBodyWithExtensionsAndTrailersEndsAtItsLastLine) {
  HttpRequestHead head;
  head.body = HttpRequestHead::Body::kChunked;
  const std::string body = "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n";
  for (size_t piece : {1u, 3u, 1000u}) {
    BodySkipper skipper(head);
    EXPECT_EQ(FeedInPieces(skipper, body + "NEXT", piece), body.size()) << piece;
    EXPECT_TRUE(skipper.done());
    EXPECT_EQ(skipper.data_bytes(), 15u);
  }
}

TEST(BodySkipperTest, MalformedChunkedFramingFails) {
  HttpRequestHead head;
  head.body = HttpRequestHead::Body::kChunked;
  for (const std::string& bad :
       {std::string("zz\r\n"), std::string("5\r\nhelloXX\r\n"), std::string("\r\n"),
        std::string("fffffffffffffffffff\r\n"), absl::StrCat(std::string(300, '1'), "\r\n")}) {
    BodySkipper skipper(head);
    skipper.Feed(bad);
    EXPECT_TRUE(skipper.failed()) << bad;
  }
}

TEST(FormatResponseHeadTest, StatusLineLengthHeadersAndConnection) {
  HttpResponse response;
  response.status = 503;
  response.content_type = "application/json";
  response.body = "{}\n";
  response.headers = {{"Cache-Control", "no-store"}, {"X-Bad", "a\r\nInjected: 1"}};
  const absl::Time now = absl::FromUnixSeconds(1764763200);  // 2025-12-03 12:00:00 UTC
  const std::string head = FormatResponseHead(response, /*close=*/true, 1, now);
  EXPECT_TRUE(absl::StartsWith(head, "HTTP/1.1 503 Service Unavailable\r\n")) << head;
  EXPECT_TRUE(absl::StrContains(head, "\r\nDate: Wed, 03 Dec 2025 12:00:00 GMT\r\n")) << head;
  EXPECT_TRUE(absl::StrContains(head, "\r\nContent-Length: 3\r\n")) << head;
  EXPECT_TRUE(absl::StrContains(head, "\r\nCache-Control: no-store\r\n")) << head;
  EXPECT_FALSE(absl::StrContains(head, "Injected")) << head;
  EXPECT_TRUE(absl::EndsWith(head, "\r\nConnection: close\r\n\r\n")) << head;
  EXPECT_TRUE(absl::EndsWith(FormatResponseHead(response, false, 0, now),
                             "\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_FALSE(absl::StrContains(FormatResponseHead(response, false, 1, now), "Connection:"));
}

}  // namespace
}  // namespace rtsptest::gateway
