// RequestFramer: what a client may send on an RTSP connection before it is
// stopped, fed in pieces of every size as a socket would deliver them.
#include "core/listener/request_framer.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace rtsptest::core {
namespace {

constexpr char kOptions[] = "OPTIONS rtsp://127.0.0.1/cam RTSP/1.0\r\nCSeq: 1\r\n\r\n";

// Feeds `bytes` in pieces of `piece` bytes; the first violation, if any.
std::optional<LimitViolation> FeedInPieces(RequestFramer& framer, const std::string& bytes,
                                           size_t piece) {
  for (size_t i = 0; i < bytes.size(); i += piece) {
    if (auto violation = framer.Feed(absl::string_view(bytes).substr(i, piece))) return violation;
  }
  return std::nullopt;
}

class RequestFramerTest : public ::testing::TestWithParam<size_t> {};

TEST_P(RequestFramerTest, OrdinaryRequestsPass) {
  RequestFramer framer;
  std::string session;
  for (int i = 0; i < 1000; ++i) session += kOptions;
  EXPECT_EQ(FeedInPieces(framer, session, GetParam()), std::nullopt);
}

TEST_P(RequestFramerTest, BodiesAndInterleavedFramesAreNotHeaders) {
  RequestFramer framer;
  // A body of 60 KiB without a newline, and interleaved frames whose
  // payload holds what would be a 'line' of 200 KiB and "\r\n\r\n".
  std::string body(60 * 1024, 'x');
  std::string bytes = absl::StrCat("SET_PARAMETER rtsp://h/cam RTSP/1.0\r\nCSeq: 2\r\n",
                                   "Content-Length: ", body.size(), "\r\n\r\n", body);
  for (int i = 0; i < 200; ++i) {
    std::string payload(1024, 'y');
    payload[10] = '\r';
    payload[11] = '\n';
    bytes += absl::StrCat("$", std::string(1, '\x01'), std::string(1, '\x04'),
                          std::string(1, '\x00'), payload);
  }
  bytes += kOptions;
  EXPECT_EQ(FeedInPieces(framer, bytes, GetParam()), std::nullopt);
}

TEST_P(RequestFramerTest, AHeaderLineOver8KiBIs431) {
  RequestFramer framer;
  std::string bytes =
      absl::StrCat("OPTIONS rtsp://h/cam RTSP/1.0\r\nX-Big: ", std::string(1 << 20, 'a'));
  std::optional<LimitViolation> violation = FeedInPieces(framer, bytes, GetParam());
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->status, 431);
  EXPECT_EQ(violation->detail, "header line over 8192 bytes");
}

TEST_P(RequestFramerTest, ARequestLineOver8KiBIs414) {
  RequestFramer framer;
  std::optional<LimitViolation> violation = FeedInPieces(
      framer, absl::StrCat("DESCRIBE rtsp://h/", std::string(64 * 1024, 'p')), GetParam());
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->status, 414);
}

TEST_P(RequestFramerTest, The101stHeaderIs431) {
  RequestFramer framer;
  std::string head = "OPTIONS rtsp://h/cam RTSP/1.0\r\n";
  for (int i = 0; i < 100; ++i) head += absl::StrCat("X-H", i, ": v\r\n");
  EXPECT_EQ(FeedInPieces(framer, head, GetParam()), std::nullopt);
  std::optional<LimitViolation> violation = framer.Feed("X-One-Too-Many: v\r\n");
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->status, 431);
  EXPECT_EQ(violation->detail, "more than 100 headers");
}

TEST_P(RequestFramerTest, AHeadOver64KiBIs431) {
  RequestFramer framer;
  std::string head = "OPTIONS rtsp://h/cam RTSP/1.0\r\n";
  // 90 headers of 1 KiB: few enough, each short enough, too much together.
  for (int i = 0; i < 90; ++i) head += absl::StrCat("X-H", i, ": ", std::string(1000, 'v'), "\r\n");
  std::optional<LimitViolation> violation = FeedInPieces(framer, head, GetParam());
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->status, 431);
  EXPECT_EQ(violation->detail, "request head over 65536 bytes");
}

TEST_P(RequestFramerTest, EndlessBlankLinesAreAHeadToo) {
  RequestFramer framer;
  std::optional<LimitViolation> violation =
      FeedInPieces(framer, std::string(100 * 1024, '\n'), GetParam());
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->status, 431);
}

TEST_P(RequestFramerTest, ContentLengthOverTheLimitIs413AndGarbageIs400) {
  RequestFramer big;
  std::optional<LimitViolation> violation = FeedInPieces(
      big, "SET_PARAMETER rtsp://h/c RTSP/1.0\r\nContent-Length: 2000000\r\n\r\n", GetParam());
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->status, 413);
  RequestFramer garbage;
  violation = FeedInPieces(
      garbage, "SET_PARAMETER rtsp://h/c RTSP/1.0\r\ncontent-length: -5\r\n\r\n", GetParam());
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->status, 400);
}

TEST_P(RequestFramerTest, AViolationStays) {
  RequestFramer framer;
  ASSERT_TRUE(FeedInPieces(framer, std::string(9000, 'a'), GetParam()).has_value());
  std::optional<LimitViolation> again = framer.Feed(kOptions);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->status, 414);
}

TEST_P(RequestFramerTest, ATunnelPostPassesWhatFollows) {
  RequestFramer framer;
  std::string bytes =
      "POST /cam HTTP/1.0\r\nx-sessioncookie: abc\r\n"
      "Content-Type: application/x-rtsp-tunnelled\r\nContent-Length: 32767\r\n\r\n";
  bytes += std::string(100 * 1024, 'Q');  // base64 of RTSP: no line ends
  EXPECT_EQ(FeedInPieces(framer, bytes, GetParam()), std::nullopt);
  EXPECT_TRUE(framer.passthrough());
}

// Bytes are released whole requests' heads at a time; bodies and frames as
// they come.
TEST(RequestFramerReleaseTest, AHeadIsReleasedOnlyWhenComplete) {
  RequestFramer framer;
  const std::string head = "OPTIONS rtsp://h/cam RTSP/1.0\r\nCSeq: 1\r";
  ASSERT_EQ(framer.Feed(head), std::nullopt);
  EXPECT_EQ(framer.releasable(), 0u);
  ASSERT_EQ(framer.Feed("\n\r"), std::nullopt);
  EXPECT_EQ(framer.releasable(), 0u);
  ASSERT_EQ(framer.Feed("\n"), std::nullopt);
  EXPECT_EQ(framer.releasable(), head.size() + 3);
  // A body streams out byte by byte; the next head is held again.
  const std::string set = "SET_PARAMETER rtsp://h/cam RTSP/1.0\r\nContent-Length: 4\r\n\r\n";
  ASSERT_EQ(framer.Feed(set + "ab"), std::nullopt);
  EXPECT_EQ(framer.releasable(), head.size() + 3 + set.size() + 2);
  ASSERT_EQ(framer.Feed("cdOPTI"), std::nullopt);
  EXPECT_EQ(framer.releasable(), head.size() + 3 + set.size() + 4);
  // An interleaved frame is released as it comes.
  RequestFramer frames;
  ASSERT_EQ(frames.Feed(std::string("$\x01\x00\x10"
                                    "abc",
                                    7)),
            std::nullopt);
  EXPECT_EQ(frames.releasable(), 7u);
}

INSTANTIATE_TEST_SUITE_P(Pieces, RequestFramerTest, ::testing::Values(1, 7, 4096, 1 << 20));

}  // namespace
}  // namespace rtsptest::core
