// Tests for the RTSP reply-head parser.
#include "common/rtsp/rtsp_response.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace rtsptest::common {
namespace {

TEST(RtspResponseTest, ParsesStatusLineHeadersContentLengthAndCSeq) {
  absl::StatusOr<RtspResponse> r = common::ParseRtspResponseHead(
      "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\n"
      "Content-Length:  312 \r\nContent-Base: rtsp://127.0.0.1:8554/cam1/\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status_code, 200);
  EXPECT_EQ(r->status_line, "RTSP/1.0 200 OK");
  EXPECT_EQ(r->ContentLength(), 312u);
  EXPECT_EQ(r->CSeq(), 2);
  EXPECT_EQ(r->headers.at("content-type"), "application/sdp");
  EXPECT_EQ(r->headers.at("content-base"), "rtsp://127.0.0.1:8554/cam1/");
  EXPECT_TRUE(r->body.empty());
}

TEST(RtspResponseTest, MissingOrBadNumbersReadAsAbsent) {
  absl::StatusOr<RtspResponse> r = common::ParseRtspResponseHead(
      "RTSP/1.0 454 Session Not Found\r\nCSeq: x\r\nContent-Length: -1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status_code, 454);
  EXPECT_EQ(r->ContentLength(), 0u);
  EXPECT_EQ(r->CSeq(), std::nullopt);
}

TEST(RtspResponseTest, SkipsHeaderLinesWithoutAColon) {
  absl::StatusOr<RtspResponse> r =
      common::ParseRtspResponseHead("RTSP/1.0 200 OK\r\ngarbage\r\nCSeq: 7");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->headers.size(), 1u);
  EXPECT_EQ(r->CSeq(), 7);
}

TEST(RtspResponseTest, RejectsWhatIsNotAnRtspStatusLine) {
  for (const char* bad : {"HTTP/1.1 200 OK", "RTSP/1.0", "RTSP/1.0 OK", "RTSP/1.0 2000 OK", ""}) {
    EXPECT_EQ(common::ParseRtspResponseHead(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(RtspStatusLineTest, SplitsVersionCodeAndReason) {
  absl::StatusOr<common::RtspStatusLine> s =
      common::ParseRtspStatusLine("RTSP/1.0 503 Service Unavailable");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->version, "RTSP/1.0");
  EXPECT_EQ(s->code, 503);
  EXPECT_EQ(s->reason, "Service Unavailable");
  s = common::ParseRtspStatusLine("RTSP/1.0 200");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->reason, "");
}

}  // namespace
}  // namespace rtsptest::common
