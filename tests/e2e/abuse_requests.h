// Hostile RTSP traffic for the protocol abuse test: a raw loopback connection
// that sends arbitrary bytes (megabytes of them, to a server that may answer
// and close half-way) and reports exactly what came back, plus the seeded
// generators of random and mutated requests.
#ifndef RTSPTEST_TESTS_E2E_ABUSE_REQUESTS_H_
#define RTSPTEST_TESTS_E2E_ABUSE_REQUESTS_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rtsptest::testing {

// What the server did with one connection's bytes.
struct AbuseOutcome {
  std::vector<int> statuses;  // status codes of the RTSP or HTTP answers, in order
  bool closed = false;        // the server ended the connection (EOF or reset)
  absl::Duration elapsed;     // from the first byte sent to the end (or the bound)
  std::string head;           // the first 200 bytes received, for messages
  std::string Describe() const;
};

// One TCP connection to 127.0.0.1:port that reads while it writes, so that
// an answer sent before the server closes is seen rather than lost in a
// broken pipe. Interleaved frames ('$') from the server are counted and
// skipped; answers are parsed by status line, headers and Content-Length.
class RawConnection {
 public:
  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }

  // Sends `bytes` within `timeout`, reading whatever arrives meanwhile.
  // False when the server closed or reset the connection before all were
  // sent (what arrived before is kept), or on timeout.
  bool Send(absl::string_view bytes, absl::Duration timeout = absl::Seconds(10));
  // Half-closes: the server reads end of stream after what was sent.
  void ShutdownWrite();
  // The head (status line and headers) of the next answer, "" when none
  // comes within `timeout` or the connection ends first.
  std::string ReadAnswer(absl::Duration timeout);
  // Reads answers until the server ends the connection or `timeout` passes;
  // true when it ended.
  bool WaitForEnd(absl::Duration timeout);
  // Reads frames until `packets` more RTP packets (channel 0) have arrived.
  bool ReadRtp(int packets, absl::Duration timeout);

  const std::vector<int>& statuses() const { return statuses_; }
  bool closed() const { return closed_; }
  const std::string& received() const { return received_; }

 private:
  // Reads what is there now (no wait when `timeout` is zero); false when
  // nothing arrived in time or the connection ended.
  bool Fill(absl::Duration timeout);
  // Takes complete answers and interleaved frames from the front of buffer_.
  void Consume();

  int fd_ = -1;
  bool closed_ = false;
  std::string buffer_;
  std::string received_;  // the first bytes ever received, for messages
  std::vector<std::string> answers_;
  size_t answers_read_ = 0;
  std::vector<int> statuses_;
  int rtp_packets_ = 0;
};

// Connects, sends `bytes`, half-closes unless `server_must_close`, and reads
// until the server ends the connection or `bound` passes.
AbuseOutcome Exchange(int port, absl::string_view bytes, bool server_must_close,
                      absl::Duration bound);

// The value of header `name` in an answer head, "" when absent.
std::string HeaderValue(absl::string_view head, absl::string_view name);
// The status code of an answer head ("RTSP/1.0 454 ..." -> 454), 0 if none.
int StatusOf(absl::string_view head);

// `size` random bytes.
std::string RandomBytes(std::mt19937& rng, size_t size);
// `request` with 1..8 random edits: a byte flipped, inserted or deleted.
std::string Mutate(std::mt19937& rng, absl::string_view request);

}  // namespace rtsptest::testing

#endif  // RTSPTEST_TESTS_E2E_ABUSE_REQUESTS_H_
