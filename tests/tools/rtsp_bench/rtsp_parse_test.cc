// rtsp_bench's parsers: URLs, SDP tracks and control URLs (Content-Base),
// Transport and Session headers, and interleaved framing across any split.
#include "tools/rtsp_bench/rtsp_parse.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace rtsptest::tools::bench {
namespace {

TEST(RtspUrlTest, DefaultsPortAndTakesUserInfoOut) {
  absl::StatusOr<RtspUrl> url = ParseRtspUrl("rtsp://admin:secret@10.0.0.7/Streaming/101");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->host, "10.0.0.7");
  EXPECT_EQ(url->port, 554);
  EXPECT_EQ(url->url, "rtsp://10.0.0.7/Streaming/101");
  EXPECT_EQ(url->user, "admin");
  EXPECT_EQ(url->password, "secret");
}

TEST(RtspUrlTest, PercentDecodesUserInfo) {
  absl::StatusOr<RtspUrl> url = ParseRtspUrl("rtsp://us%40er:p%3Ass%25@h:8554/x");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->user, "us@er");
  EXPECT_EQ(url->password, "p:ss%");
  EXPECT_EQ(url->url, "rtsp://h:8554/x");
}

TEST(RtspUrlTest, Ipv6AndPort) {
  absl::StatusOr<RtspUrl> url = ParseRtspUrl("rtsp://[::1]:8554/cam");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 8554);
  EXPECT_EQ(url->url, "rtsp://[::1]:8554/cam");
}

TEST(RtspUrlTest, RejectsOtherSchemesAndBadPorts) {
  EXPECT_EQ(ParseRtspUrl("http://h/x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRtspUrl("rtsp://h:0/x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRtspUrl("rtsp://h:99999/x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRtspUrl("rtsp:///x").status().code(), absl::StatusCode::kInvalidArgument);
}

constexpr char kTwoTracks[] =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\na=control:*\r\n"
    "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:stream=0\r\n"
    "m=audio 0 RTP/AVP 0\r\na=control:stream=1\r\n";

TEST(SdpTest, TracksControlsAndClockRates) {
  absl::StatusOr<SdpDescription> sdp = ParseSdp(kTwoTracks, "rtsp://h:8554/cam/");
  ASSERT_TRUE(sdp.ok()) << sdp.status();
  ASSERT_EQ(sdp->tracks.size(), 2u);
  EXPECT_EQ(sdp->tracks[0].media, "video");
  EXPECT_EQ(sdp->tracks[0].encoding, "H264");
  EXPECT_EQ(sdp->tracks[0].clock_rate, 90000);
  EXPECT_EQ(sdp->tracks[0].control_url, "rtsp://h:8554/cam/stream=0");
  EXPECT_EQ(sdp->tracks[1].encoding, "PCMU");  // static payload type 0
  EXPECT_EQ(sdp->tracks[1].clock_rate, 8000);
  EXPECT_EQ(sdp->tracks[1].control_url, "rtsp://h:8554/cam/stream=1");
  EXPECT_EQ(sdp->aggregate_url, "rtsp://h:8554/cam/");
}

TEST(SdpTest, BaseWithoutSlashGetsOne) {
  absl::StatusOr<SdpDescription> sdp = ParseSdp(kTwoTracks, "rtsp://h/cam");
  ASSERT_TRUE(sdp.ok());
  EXPECT_EQ(sdp->tracks[0].control_url, "rtsp://h/cam/stream=0");
}

TEST(SdpTest, AbsoluteControlsAndSessionLevelBase) {
  absl::StatusOr<SdpDescription> sdp = ParseSdp(
      "v=0\na=control:rtsp://other/agg/\nm=video 0 RTP/AVP 26\na=control:trackID=1\n"
      "m=video 0 RTP/AVP 97\na=rtpmap:97 H265/90000\na=control:rtsp://abs/t2\n",
      "rtsp://h/cam/");
  ASSERT_TRUE(sdp.ok()) << sdp.status();
  EXPECT_EQ(sdp->aggregate_url, "rtsp://other/agg/");
  EXPECT_EQ(sdp->tracks[0].control_url, "rtsp://other/agg/trackID=1");
  EXPECT_EQ(sdp->tracks[0].clock_rate, 90000);  // JPEG, static
  EXPECT_EQ(sdp->tracks[1].control_url, "rtsp://abs/t2");
}

TEST(SdpTest, TrackWithoutControlIsTheBase) {
  absl::StatusOr<SdpDescription> sdp = ParseSdp("v=0\nm=video 0 RTP/AVP 96\n", "rtsp://h/c");
  ASSERT_TRUE(sdp.ok());
  EXPECT_EQ(sdp->tracks[0].control_url, "rtsp://h/c");
  EXPECT_EQ(sdp->tracks[0].clock_rate, 0);  // dynamic type without rtpmap: unknown
}

TEST(SdpTest, NoMediaIsInvalid) {
  EXPECT_EQ(ParseSdp("v=0\r\ns=x\r\n", "rtsp://h/").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TransportTest, Interleaved) {
  absl::StatusOr<TransportReply> t =
      ParseTransport("RTP/AVP/TCP;unicast;interleaved=4-5;ssrc=DEADBEEF;mode=\"PLAY\"");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->tcp);
  EXPECT_EQ(t->interleaved_rtp, 4);
  EXPECT_EQ(t->interleaved_rtcp, 5);
  EXPECT_EQ(t->ssrc, 0xdeadbeefu);
}

TEST(TransportTest, UdpPorts) {
  absl::StatusOr<TransportReply> t =
      ParseTransport("RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE(t->tcp);
  EXPECT_EQ(t->client_rtp_port, 5000);
  EXPECT_EQ(t->server_rtp_port, 6970);
  EXPECT_EQ(t->server_rtcp_port, 6971);
}

TEST(TransportTest, RejectsBadNumbers) {
  EXPECT_EQ(ParseTransport("RTP/AVP/TCP;interleaved=x-1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTransport("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SessionTest, IdAndTimeout) {
  absl::StatusOr<SessionHeader> s = ParseSession("abc123;timeout=30");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->id, "abc123");
  EXPECT_EQ(s->timeout_seconds, 30);
  s = ParseSession(" xyz ");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->id, "xyz");
  EXPECT_EQ(s->timeout_seconds, 60);
  EXPECT_FALSE(ParseSession("abc;timeout=0").ok());
  EXPECT_FALSE(ParseSession("").ok());
}

TEST(ReplyToServerTest, KeepalivesGetOkOthersNotImplemented) {
  EXPECT_EQ(ReplyToServer("GET_PARAMETER rtsp://h/x RTSP/1.0\r\nCSeq: 7\r\nSession: 1"),
            "RTSP/1.0 200 OK\r\nCSeq: 7\r\n\r\n");
  EXPECT_EQ(ReplyToServer("OPTIONS * RTSP/1.0\r\ncseq:3"), "RTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n");
  EXPECT_EQ(ReplyToServer("ANNOUNCE rtsp://h/x RTSP/1.0\r\nCSeq: 9"),
            "RTSP/1.0 501 Not Implemented\r\nCSeq: 9\r\n\r\n");
}

TEST(InterleavedSplitterTest, CompactKeepsAPartialUnit) {
  InterleavedSplitter splitter;
  splitter.Append(
      std::string("$\x00\x00\x04"
                  "ab",
                  6));
  EXPECT_EQ(splitter.Next().kind, InterleavedSplitter::Kind::kNeedMore);
  splitter.Compact();
  EXPECT_EQ(splitter.buffered(), 6u);
  splitter.Append("cd");
  InterleavedSplitter::Unit unit = splitter.Next();
  ASSERT_EQ(unit.kind, InterleavedSplitter::Kind::kFrame);
  EXPECT_EQ(unit.payload, "abcd");
}

// A reply, a frame, a server request, two frames and a reply with a body.
std::string Stream() {
  std::string s = "RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n";
  s += std::string("$\x00\x00\x03", 4) + "abc";
  s += "GET_PARAMETER rtsp://x RTSP/1.0\r\nCSeq: 9\r\nContent-Length: 2\r\n\r\nhi";
  s += std::string("$\x01\x00\x00", 4);
  s += std::string("$\x02\x01\x00", 4) + std::string(256, 'z');
  s += "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 5\r\n\r\nv=0\r\n";
  return s;
}

// The units of `data` fed in pieces of `step` bytes, as strings.
std::vector<std::string> Units(const std::string& data, size_t step) {
  InterleavedSplitter splitter;
  std::vector<std::string> units;
  for (size_t at = 0; at < data.size(); at += step) {
    splitter.Append(absl::string_view(data).substr(at, step));
    while (true) {
      InterleavedSplitter::Unit unit = splitter.Next();
      if (unit.kind == InterleavedSplitter::Kind::kNeedMore) break;
      switch (unit.kind) {
        case InterleavedSplitter::Kind::kFrame:
          units.push_back("frame " + std::to_string(unit.channel) + " " +
                          std::to_string(unit.payload.size()));
          break;
        case InterleavedSplitter::Kind::kResponse:
          units.push_back("reply " + std::to_string(*unit.response.CSeq()) + " " +
                          unit.response.body);
          break;
        case InterleavedSplitter::Kind::kRequest:
          units.push_back("request");
          break;
        default:
          units.push_back("error " + unit.error);
          return units;
      }
    }
  }
  EXPECT_EQ(splitter.buffered(), 0u);
  return units;
}

TEST(InterleavedSplitterTest, SameUnitsWhateverTheReadSplits) {
  const std::vector<std::string> expected = {"reply 1 ",  "frame 0 3",   "request",
                                             "frame 1 0", "frame 2 256", "reply 2 v=0\r\n"};
  const std::string data = Stream();
  for (size_t step :
       {size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{7}, size_t{64}, data.size()}) {
    EXPECT_EQ(Units(data, step), expected) << "step " << step;
  }
}

TEST(InterleavedSplitterTest, GarbageIsAnError) {
  InterleavedSplitter splitter;
  splitter.Append("\x01\x02garbage");
  InterleavedSplitter::Unit unit = splitter.Next();
  EXPECT_EQ(unit.kind, InterleavedSplitter::Kind::kError);
}

TEST(InterleavedSplitterTest, OversizedHeadIsAnError) {
  InterleavedSplitter splitter;
  splitter.Append("RTSP/1.0 200 OK\r\nX: " + std::string(InterleavedSplitter::kMaxHead, 'a'));
  EXPECT_EQ(splitter.Next().kind, InterleavedSplitter::Kind::kError);
}

}  // namespace
}  // namespace rtsptest::tools::bench
