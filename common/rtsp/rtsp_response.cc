// RTSP reply parsing: see rtsp_response.h.
#include "common/rtsp/rtsp_response.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace rtsptest::common {

size_t RtspResponse::ContentLength() const {
  size_t length = 0;
  auto it = headers.find("content-length");
  if (it == headers.end() || !absl::SimpleAtoi(it->second, &length)) return 0;
  return length;
}

std::optional<int64_t> RtspResponse::CSeq() const {
  int64_t cseq = 0;
  auto it = headers.find("cseq");
  if (it == headers.end() || !absl::SimpleAtoi(it->second, &cseq)) return std::nullopt;
  return cseq;
}

absl::StatusOr<RtspStatusLine> ParseRtspStatusLine(absl::string_view line) {
  std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(' ', 2));
  RtspStatusLine out;
  if (parts.size() < 2 || !absl::StartsWith(parts[0], "RTSP/") || parts[1].size() != 3 ||
      !absl::SimpleAtoi(parts[1], &out.code)) {
    return absl::InvalidArgumentError(absl::StrCat("bad status line: ", line.substr(0, 200)));
  }
  out.version = std::string(parts[0]);
  if (parts.size() == 3) out.reason = std::string(parts[2]);
  return out;
}

absl::StatusOr<RtspResponse> ParseRtspResponseHead(absl::string_view head) {
  absl::ConsumeSuffix(&head, kRtspHeadEnd);
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  absl::StatusOr<RtspStatusLine> status = ParseRtspStatusLine(lines[0]);
  if (!status.ok()) return status.status();
  RtspResponse response;
  response.status_code = status->code;
  response.status_line = std::string(lines[0]);
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) continue;
    response.headers[absl::AsciiStrToLower(absl::StripAsciiWhitespace(lines[i].substr(0, colon)))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  return response;
}

}  // namespace rtsptest::common
