// A raw RTSP client on one loopback TCP connection, for tests that need to
// see exactly what goes over the wire: status lines, when an answer arrives,
// interleaved RTP, resets and end of stream.
#ifndef RTSPTEST_TESTS_CORE_LISTENER_RTSP_TEST_CLIENT_H_
#define RTSPTEST_TESTS_CORE_LISTENER_RTSP_TEST_CLIENT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rtsptest::testing {

// The value of header `name` in `response` (status line and headers), or "".
std::string Header(absl::string_view response, absl::string_view name);

class RtspTestClient {
 public:
  explicit RtspTestClient(int port);
  ~RtspTestClient();
  RtspTestClient(const RtspTestClient&) = delete;
  RtspTestClient& operator=(const RtspTestClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  int port() const { return port_; }
  std::string Url(absl::string_view path) const;

  // Writes `request` (the whole text); false on failure.
  bool Send(const std::string& request);
  // Reads the next RTSP response (status line and headers, without the blank
  // line; any body is skipped), passing over interleaved frames. "" when none
  // arrives within `timeout` or the connection ends.
  std::string ReadResponse(absl::Duration timeout);
  // Sends `method url` with CSeq (and Session when set) plus `headers` (each
  // ending in \r\n) and reads the answer.
  std::string Request(absl::string_view method, absl::string_view path,
                      const std::string& headers = "", absl::Duration timeout = absl::Seconds(10));

  // SETUP of /path/stream=0 over TCP interleaved, then PLAY of /path; keeps
  // the session id. False unless both are answered 200.
  bool PlayTcp(absl::string_view path);
  const std::string& session() const { return session_; }

  // Reads interleaved frames until `packets` RTP packets (channel 0) have
  // arrived; false on timeout or end of stream.
  bool ReadRtp(int packets, absl::Duration timeout);
  int rtp_packets() const { return rtp_packets_; }
  int64_t rtp_bytes() const { return rtp_bytes_; }

  // Waits for the server to end the connection: true when a read returns 0
  // or fails (reset) within `timeout`, passing over any data before it.
  bool WaitForEnd(absl::Duration timeout);

 private:
  // Appends what arrives within `timeout` to buffer_; false on timeout, end
  // of stream or error (errno kept in last_errno_).
  bool Fill(absl::Duration timeout);
  // Drops complete interleaved frames at the front of buffer_, counting RTP.
  void ConsumeFrames();

  const int port_;
  int fd_ = -1;
  int cseq_ = 0;
  std::string session_;
  std::string buffer_;
  int rtp_packets_ = 0;
  int64_t rtp_bytes_ = 0;
};

}  // namespace rtsptest::testing

#endif  // RTSPTEST_TESTS_CORE_LISTENER_RTSP_TEST_CLIENT_H_
