// RequestFramer: see request_framer.h.
#include "core/listener/request_framer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace rtsptest::core {
namespace {

// Enough of a line to recognise the headers the framer reads.
constexpr size_t kLineStartBytes = 128;

}  // namespace

std::optional<LimitViolation> RequestFramer::Feed(absl::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size() && !violation_) {
    if (state_ == State::kPassthrough) {
      fed_ += bytes.size() - i;
      return std::nullopt;
    }
    if (state_ == State::kBody || state_ == State::kInterleavedPayload) {
      // Skip whole runs of payload at once.
      const uint64_t take = std::min<uint64_t>(remaining_, bytes.size() - i);
      remaining_ -= take;
      i += take;
      fed_ += take;
      if (remaining_ == 0) state_ = State::kStart;
      continue;
    }
    ++fed_;
    std::optional<LimitViolation> violation = OnByte(bytes[i++]);
    if (violation) return violation;
  }
  return violation_;
}

std::optional<LimitViolation> RequestFramer::OnByte(char c) {
  switch (state_) {
    case State::kStart:
      if (c == '$') {
        state_ = State::kInterleavedHeader;
        interleaved_header_left_ = 3;  // channel, then the length's two bytes
        interleaved_length_ = 0;
        return std::nullopt;
      }
      state_ = State::kHead;
      head_start_ = fed_ - 1;
      line_bytes_ = head_bytes_ = lines_ = 0;
      line_start_.clear();
      content_length_.reset();
      tunnel_post_ = tunnel_content_type_ = false;
      return OnByte(c);
    case State::kInterleavedHeader:
      if (--interleaved_header_left_ < 2) {
        interleaved_length_ = (interleaved_length_ << 8) | static_cast<uint8_t>(c);
      }
      if (interleaved_header_left_ == 0) {
        remaining_ = interleaved_length_;
        state_ = remaining_ == 0 ? State::kStart : State::kInterleavedPayload;
      }
      return std::nullopt;
    case State::kHead:
      if (++head_bytes_ > limits_.max_head_bytes) {
        return Fail(431, "Request Header Fields Too Large",
                    absl::StrCat("request head over ", limits_.max_head_bytes, " bytes"));
      }
      if (c == '\n') return EndLine();
      if (++line_bytes_ > limits_.max_line_bytes) {
        if (lines_ == 0) {
          return Fail(414, "Request-URI Too Long",
                      absl::StrCat("request line over ", limits_.max_line_bytes, " bytes"));
        }
        return Fail(431, "Request Header Fields Too Large",
                    absl::StrCat("header line over ", limits_.max_line_bytes, " bytes"));
      }
      if (line_start_.size() < kLineStartBytes) {
        line_start_ += absl::ascii_tolower(static_cast<unsigned char>(c));
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::optional<LimitViolation> RequestFramer::EndLine() {
  absl::string_view line = absl::StripSuffix(line_start_, "\r");
  const bool empty = line_bytes_ == 0 || (line_bytes_ == 1 && line == "");
  line_bytes_ = 0;
  if (empty) {
    line_start_.clear();
    if (lines_ == 0) return std::nullopt;  // blank lines before a request
    if (tunnel_post_ && tunnel_content_type_) {
      state_ = State::kPassthrough;
    } else if (content_length_.value_or(0) > 0) {
      remaining_ = *content_length_;
      state_ = State::kBody;
    } else {
      state_ = State::kStart;
    }
    return std::nullopt;
  }
  if (lines_ == 0) {
    tunnel_post_ = absl::StartsWith(line, "post ");
  } else if (lines_ > limits_.max_headers) {
    return Fail(431, "Request Header Fields Too Large",
                absl::StrCat("more than ", limits_.max_headers, " headers"));
  } else if (absl::ConsumePrefix(&line, "content-length:")) {
    uint64_t length = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &length)) {
      return Fail(400, "Bad Request", "Content-Length is not a number");
    }
    if (length > limits_.max_body_bytes) {
      return Fail(413, "Request Entity Too Large",
                  absl::StrCat("Content-Length ", length, " over ", limits_.max_body_bytes));
    }
    content_length_ = length;
  } else if (absl::ConsumePrefix(&line, "content-type:")) {
    tunnel_content_type_ = absl::StripAsciiWhitespace(line) == "application/x-rtsp-tunnelled";
  }
  ++lines_;
  line_start_.clear();
  return std::nullopt;
}

std::optional<LimitViolation> RequestFramer::Fail(int status, std::string reason,
                                                  std::string detail) {
  violation_ = LimitViolation{status, std::move(reason), std::move(detail)};
  return violation_;
}

}  // namespace rtsptest::core
