// The RTSP client-side parsing rtsp_bench needs, each a pure function of
// text so that tests can reach it: rtsp:// URLs, SDP (the tracks, their
// control URLs resolved against the base, their clock rates), the Transport
// and Session reply headers, and the split of a TCP byte stream into RTSP
// messages and '$'-framed interleaved packets across any read boundaries.
#ifndef RTSPTEST_TOOLS_RTSP_BENCH_RTSP_PARSE_H_
#define RTSPTEST_TOOLS_RTSP_BENCH_RTSP_PARSE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/rtsp/rtsp_response.h"

namespace rtsptest::tools::bench {

// rtsp://[user[:password]@]host[:port][/path]. The user info is taken out
// of the URL sent in requests (`url`) and kept, percent-decoded, for
// authentication.
struct RtspUrl {
  std::string url;   // without user info
  std::string host;  // without brackets
  int port = 554;
  std::string user;
  std::string password;
};
// InvalidArgument for another scheme, an empty host or a bad port.
absl::StatusOr<RtspUrl> ParseRtspUrl(absl::string_view text);

// One m= section of an SDP.
struct SdpTrack {
  std::string media;        // "video", "audio", "application"
  int payload_type = -1;    // the first format of the m= line
  std::string encoding;     // from a=rtpmap ("H264"), or the static type's name
  int clock_rate = 0;       // from a=rtpmap, or the static payload type's; 0 unknown
  std::string control_url;  // absolute: a=control resolved against the base
};
struct SdpDescription {
  std::vector<SdpTrack> tracks;
  // The aggregate control URL (session-level a=control resolved), or the
  // base when there is none: where PLAY goes.
  std::string aggregate_url;
};
// `base_url` is Content-Base, else Content-Location, else the DESCRIBE URL.
// A control "*" is the base; an absolute control (rtsp://, rtsps://) is
// itself; a relative one is appended to the base with one '/' between them
// (what ffmpeg, VLC and GStreamer do). InvalidArgument when no m= line.
absl::StatusOr<SdpDescription> ParseSdp(absl::string_view sdp, absl::string_view base_url);
std::string ResolveControl(absl::string_view base_url, absl::string_view control);

// The Transport header of a SETUP reply (the fields this tool reads).
struct TransportReply {
  bool tcp = false;  // RTP/AVP/TCP
  int interleaved_rtp = -1;
  int interleaved_rtcp = -1;
  int server_rtp_port = -1;
  int server_rtcp_port = -1;
  int client_rtp_port = -1;
  std::optional<uint32_t> ssrc;
};
// InvalidArgument for an empty header or unparseable numbers.
absl::StatusOr<TransportReply> ParseTransport(absl::string_view header);

// "id[;timeout=seconds]"; the timeout is 60 s when absent (RFC 2326 12.37).
struct SessionHeader {
  std::string id;
  int timeout_seconds = 60;
};
absl::StatusOr<SessionHeader> ParseSession(absl::string_view header);

// The reply to a request the server sent (a head without its body): 200 OK
// to OPTIONS and GET_PARAMETER (keepalives), 501 Not Implemented otherwise,
// with the request's CSeq.
std::string ReplyToServer(absl::string_view request_head);

// Splits what arrives on an RTSP connection into units: replies (head and
// body), requests from the server (skipped by the caller), and interleaved
// frames '$' <channel> <16-bit length> <payload>. Bytes may arrive split
// anywhere; Append what was read, then call Next() until kNeedMore. Views in
// a Unit stay valid until the next Append().
class InterleavedSplitter {
 public:
  enum class Kind { kNeedMore, kFrame, kResponse, kRequest, kError };
  struct Unit {
    Kind kind = Kind::kNeedMore;
    int channel = -1;               // kFrame
    absl::string_view payload;      // kFrame: the packet; kRequest: the head
    common::RtspResponse response;  // kResponse, with its body
    std::string error;              // kError
  };

  // Limits on one message: a head or body above them is kError.
  static constexpr size_t kMaxHead = 64 * 1024;
  static constexpr size_t kMaxBody = 1024 * 1024;

  void Append(absl::string_view data);
  Unit Next();
  // Bytes held for an incomplete unit.
  size_t buffered() const { return buffer_.size() - offset_; }
  // Drops what Next() consumed and, when nothing is left, memory above
  // 64 KiB: one large read must not pin its size for every reader.
  void Compact();

 private:
  std::string buffer_;
  size_t offset_ = 0;
};

}  // namespace rtsptest::tools::bench

#endif  // RTSPTEST_TOOLS_RTSP_BENCH_RTSP_PARSE_H_
