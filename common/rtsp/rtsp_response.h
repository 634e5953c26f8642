// RTSP/1.0 replies: the status line, the headers, Content-Length and CSeq.
//
// One parser for every client in the tree (the health prober, rtsp_client):
// each reads up to the blank line that ends the head, parses it here, then
// reads Content-Length bytes of body itself.
#ifndef RTSPTEST_COMMON_RTSP_RTSP_RESPONSE_H_
#define RTSPTEST_COMMON_RTSP_RTSP_RESPONSE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rtsptest::common {

// The terminator of a reply's head.
inline constexpr absl::string_view kRtspHeadEnd = "\r\n\r\n";

struct RtspStatusLine {
  std::string version;  // "RTSP/1.0"
  int code = 0;         // 200
  std::string reason;   // "OK" (may be empty)
};

struct RtspResponse {
  int status_code = 0;
  std::string status_line;                     // "RTSP/1.0 200 OK"
  std::map<std::string, std::string> headers;  // keys lower-cased, values trimmed
  std::string body;                            // Filled by the reader, not the parser.

  // The Content-Length header; 0 when it is missing or not a number.
  size_t ContentLength() const;
  // The CSeq header, or nullopt when it is missing or not a number.
  std::optional<int64_t> CSeq() const;
};

// Parses "RTSP/<version> <3-digit code>[ <reason>]". InvalidArgument for
// anything else (an HTTP reply, interleaved binary, a truncated line).
absl::StatusOr<RtspStatusLine> ParseRtspStatusLine(absl::string_view line);

// Parses a reply head: the status line and the header lines, separated by
// CRLF, without the blank line (a trailing kRtspHeadEnd is tolerated).
// Header lines without a colon are skipped; a repeated header keeps its last
// value. InvalidArgument for a bad status line.
absl::StatusOr<RtspResponse> ParseRtspResponseHead(absl::string_view head);

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_RTSP_RTSP_RESPONSE_H_
