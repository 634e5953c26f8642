// The HTTP/1.1 wire format for the gateway's HttpServer (RFC 9112), as pure
// functions of bytes: finding and parsing a request head, skipping a request
// body (Content-Length or chunked), and writing a response head.
//
// Strict where leniency lets a request mean two things: a header line that
// continues the previous one (obs-fold), both Content-Length and
// Transfer-Encoding, conflicting Content-Lengths, a transfer coding other
// than chunked, a control byte in a header value, an HTTP/1.1 request
// without Host. Lenient where RFC 9112 allows it: a bare LF ends a line, and
// blank lines before a request are skipped.
#ifndef RTSPTEST_GATEWAY_HTTP_WIRE_H_
#define RTSPTEST_GATEWAY_HTTP_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rtsptest::gateway {

struct HttpRequest {
  std::string method;                        // "GET", "HEAD", ...
  std::string path;                          // Percent-decoded, without the query string.
  std::map<std::string, std::string> query;  // Decoded; the last of a repeated name.
  std::string host;                          // The Host header, as sent ("" when absent).
  std::string remote;                        // Client address, for the access log.
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A request line and headers, parsed.
struct HttpRequestHead {
  HttpRequest request;     // All but `remote`.
  int minor_version = 1;   // HTTP/1.0 or HTTP/1.1.
  bool keep_alive = true;  // What the version and Connection header ask for.
  enum class Body { kNone, kLength, kChunked };
  Body body = Body::kNone;
  uint64_t content_length = 0;  // With Body::kLength.
};

// Why a request cannot be served: the status to answer with (400, 414, 431,
// 501 or 505) and a line for the log and the response body.
struct HttpRequestError {
  int status = 400;
  std::string detail;
};

// Blank lines a client may send before a request (RFC 9112 2.2): how many
// bytes at the front of `buffer` are CR or LF.
size_t LeadingBlankLineBytes(absl::string_view buffer);

// The end of the request head at the front of `buffer` (just past the empty
// line), or npos. `scanned` keeps where the search stopped between calls on
// a growing buffer (start it at 0), so that a head arriving a byte at a
// time costs linear, not quadratic, time.
size_t FindHeadEnd(absl::string_view buffer, size_t* scanned);

// False when `prefix`, the start of a request head not complete yet, can
// already not be one: a byte other than a token character before the
// method's end (binary data, a TLS handshake).
bool CouldStartRequestHead(absl::string_view prefix);

// Parses `head`, a whole request head as FindHeadEnd delimits it. On failure
// returns false and fills `error`.
bool ParseRequestHead(absl::string_view head, HttpRequestHead* parsed, HttpRequestError* error);

// Reads past a request body as it arrives, without keeping it: a
// Content-Length body, or a chunked one (chunk extensions and trailers
// allowed and ignored).
class BodySkipper {
 public:
  explicit BodySkipper(const HttpRequestHead& head);

  // Takes the next bytes of the connection; returns how many belong to the
  // body (the rest start the next request).
  size_t Feed(absl::string_view bytes);

  bool done() const { return state_ == State::kDone; }
  // A malformed chunked framing; nothing more is read.
  bool failed() const { return state_ == State::kFailed; }
  // Body bytes so far (chunk data only, for chunked).
  uint64_t data_bytes() const { return data_bytes_; }

 private:
  enum class State { kLength, kChunkSize, kChunkData, kChunkDataEnd, kTrailer, kDone, kFailed };
  // Takes one byte of a chunk-size or trailer line or a chunk's closing
  // CRLF.
  void LineByte(char c);

  State state_;
  uint64_t remaining_ = 0;  // Of the Content-Length body or current chunk.
  uint64_t data_bytes_ = 0;
  std::string line_;  // The chunk-size or trailer line so far.
  size_t trailer_bytes_ = 0;
};

// "Not Found" for 404; "Unknown" for a status it does not know.
absl::string_view ReasonPhrase(int status);

// The status line and headers of `response` (Date, Content-Type,
// Content-Length of its body, its headers, and Connection: close when
// `close`, or Connection: keep-alive for an HTTP/1.0 client kept open),
// ending with the empty line. Headers carrying CR or LF are left out.
std::string FormatResponseHead(const HttpResponse& response, bool close, int request_minor_version,
                               absl::Time now);

}  // namespace rtsptest::gateway

#endif  // RTSPTEST_GATEWAY_HTTP_WIRE_H_
