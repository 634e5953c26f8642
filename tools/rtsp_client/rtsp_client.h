// RtspClient: a small blocking RTSP/1.0 client over a raw socket, for load
// generation (rtsp_bench) and churn tests.
//
// It speaks just enough RTSP to behave like a camera viewer (OPTIONS,
// DESCRIBE, SETUP per track over TCP-interleaved or UDP, PLAY, TEARDOWN) and
// can abort at any step, politely (FIN) or with a TCP reset, which is what
// misbehaving real clients do. Every call is bounded by a deadline.
#ifndef RTSPTEST_TOOLS_RTSP_CLIENT_RTSP_CLIENT_H_
#define RTSPTEST_TOOLS_RTSP_CLIENT_RTSP_CLIENT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/rtsp/rtsp_response.h"

namespace rtsptest::tools {

// Status line, lower-cased headers and body (common/rtsp's parser).
using RtspResponse = ::rtsptest::common::RtspResponse;

enum class Transport { kTcpInterleaved, kUdp };

class RtspClient {
 public:
  // `url` like rtsp://127.0.0.1:8554/cam1 (IPv6 hosts in brackets).
  explicit RtspClient(std::string url);
  ~RtspClient();

  RtspClient(const RtspClient&) = delete;
  RtspClient& operator=(const RtspClient&) = delete;

  absl::Status Connect(absl::Duration timeout);
  absl::StatusOr<RtspResponse> Options(absl::Duration timeout);
  // DESCRIBE, and remembers the SDP's track control URLs.
  absl::StatusOr<RtspResponse> Describe(absl::Duration timeout);
  // SETUP of every track of the last DESCRIBE.
  absl::Status SetupAll(Transport transport, absl::Duration timeout);
  // PLAY with a Range header of `range` (a test may send one the server
  // cannot parse).
  absl::StatusOr<RtspResponse> Play(absl::Duration timeout, absl::string_view range = "npt=0.000-");
  absl::StatusOr<RtspResponse> Pause(absl::Duration timeout);
  absl::Status Teardown(absl::Duration timeout);

  // Reads media for `duration` and returns the number of RTP packets seen
  // (interleaved frames on TCP, datagrams on UDP). Stops early on error.
  absl::StatusOr<int64_t> ReadMedia(absl::Duration duration);
  // The same, handing every RTP packet (channel, bytes from the RTP header
  // on) to `on_packet`; returning false stops reading early. Over UDP, track
  // k's RTP packets come as channel 2k, as they would interleaved.
  using PacketFn = std::function<bool(int channel, absl::string_view rtp)>;
  absl::StatusOr<int64_t> ReadMedia(absl::Duration duration, const PacketFn& on_packet);
  int64_t media_bytes() const { return media_bytes_; }

  // Closes the connection with FIN, or with RST when `reset` is true.
  void Close(bool reset = false);

  const std::vector<std::string>& track_urls() const { return track_urls_; }
  // For clients that know the tracks and skip DESCRIBE (SETUP comes next).
  void set_track_urls(std::vector<std::string> urls) { track_urls_ = std::move(urls); }
  const std::string& session() const { return session_; }

 private:
  absl::StatusOr<RtspResponse> Request(absl::string_view method, absl::string_view url,
                                       const std::vector<std::string>& extra_headers,
                                       absl::Duration timeout);
  absl::StatusOr<RtspResponse> ReadResponse(absl::Time deadline);
  absl::Status FillBuffer(absl::Time deadline);

  std::string url_;
  std::string host_;
  uint16_t port_ = 0;
  int fd_ = -1;
  int cseq_ = 0;
  std::string buffer_;
  std::string session_;
  std::vector<std::string> track_urls_;
  std::vector<int> udp_fds_;
  int64_t media_bytes_ = 0;
};

}  // namespace rtsptest::tools

#endif  // RTSPTEST_TOOLS_RTSP_CLIENT_RTSP_CLIENT_H_
