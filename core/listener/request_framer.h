// RequestFramer: follows what a client sends on an RTSP connection and says
// when it breaks the limits on a request's size.
//
// gst-rtsp-server reads a request's head one byte per read and keeps every
// header it is sent: a client that sends a megabyte-long header line, or
// headers without end, costs a syscall per byte on the listener's thread
// and memory without bound. The framer sees the same bytes first and stops
// such a client after at most a request's worth.
//
// What a connection carries, in turn: requests (and responses), each a head
// of CRLF-terminated lines ended by an empty line, then Content-Length
// bytes of body; and interleaved frames ('$', channel, 16-bit length,
// payload), e.g. a reader's RTCP over TCP. Once a POST opens an
// RTSP-over-HTTP tunnel (Content-Type application/x-rtsp-tunnelled), what
// follows is base64 of RTSP with no framing of its own: the framer then only
// passes bytes on (see passthrough()).
#ifndef RTSPTEST_CORE_LISTENER_REQUEST_FRAMER_H_
#define RTSPTEST_CORE_LISTENER_REQUEST_FRAMER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace rtsptest::core {

struct RequestLimits {
  size_t max_line_bytes = 8 * 1024;   // the request line, or one header line
  size_t max_head_bytes = 64 * 1024;  // request line and headers together
  size_t max_headers = 100;
  size_t max_body_bytes = 1024 * 1024;  // Content-Length
};

// Why a connection was stopped: the status to answer with, and what the
// log says about it.
struct LimitViolation {
  int status = 400;    // 400, 413, 414 or 431
  std::string reason;  // the status line's phrase, e.g. "Request Header Fields Too Large"
  std::string detail;  // e.g. "header line over 8192 bytes"
};

class RequestFramer {
 public:
  explicit RequestFramer(RequestLimits limits = {}) : limits_(limits) {}

  // Follows the next bytes of the connection. nullopt while they keep to
  // the limits; else the first violation, and every later call returns it
  // again.
  std::optional<LimitViolation> Feed(absl::string_view bytes);

  // True once an RTSP-over-HTTP tunnel's POST head has passed.
  bool passthrough() const { return state_ == State::kPassthrough; }

  // How many of the bytes fed so far may be handed on: all of them, except
  // a request head that is not complete yet. gst-rtsp-server 1.22 loses a
  // request whose head arrives in pieces split at an unlucky byte (after a
  // header line's "\r", or one byte per read: the request is never
  // answered), so heads are handed on whole.
  uint64_t releasable() const { return state_ == State::kHead ? head_start_ : fed_; }

 private:
  enum class State { kStart, kHead, kBody, kInterleavedHeader, kInterleavedPayload, kPassthrough };

  std::optional<LimitViolation> OnByte(char c);
  std::optional<LimitViolation> EndLine();
  std::optional<LimitViolation> Fail(int status, std::string reason, std::string detail);

  const RequestLimits limits_;
  State state_ = State::kStart;
  std::optional<LimitViolation> violation_;
  // In the head.
  size_t line_bytes_ = 0;
  size_t head_bytes_ = 0;
  size_t lines_ = 0;        // complete lines of this head, the request line included
  std::string line_start_;  // the current line's first bytes, lower-cased
  std::optional<uint64_t> content_length_;
  bool tunnel_post_ = false;
  bool tunnel_content_type_ = false;
  uint64_t fed_ = 0;         // bytes fed so far
  uint64_t head_start_ = 0;  // where the current head began, of fed_
  // In a body or an interleaved frame.
  uint64_t remaining_ = 0;
  int interleaved_header_left_ = 0;
  uint32_t interleaved_length_ = 0;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_LISTENER_REQUEST_FRAMER_H_
