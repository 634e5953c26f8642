// HTTP/1.1 request heads, bodies and response heads (RFC 9112).
#include "gateway/http_wire.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/net/percent_decode.h"

namespace rtsptest::gateway {
namespace {

// A chunk-size line (with extensions) or a trailer line longer than this is
// an attack, not a client.
constexpr size_t kMaxChunkLineBytes = 256;
constexpr size_t kMaxTrailerBytes = 4096;
// Chunk sizes above this are refused before they can overflow a count.
constexpr uint64_t kMaxChunkBytes = uint64_t{1} << 40;

// RFC 9110 5.6.2 tchar.
bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::StrContains("!#$%&'*+-.^_`|~", c);
}

bool IsToken(absl::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// Visible ASCII: what a request target may hold.
bool IsVisible(absl::string_view text) {
  for (char c : text) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

bool Fail(HttpRequestError* error, int status, std::string detail) {
  error->status = status;
  error->detail = std::move(detail);
  return false;
}

// The request line: method, target and version.
bool ParseRequestLine(absl::string_view line, HttpRequestHead* parsed, HttpRequestError* error) {
  std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 3) return Fail(error, 400, "malformed request line");
  const absl::string_view method = parts[0], target = parts[1], version = parts[2];
  if (!IsToken(method)) return Fail(error, 400, "malformed method");
  if (target.empty() || !IsVisible(target)) return Fail(error, 400, "malformed request target");
  if (version.size() != 8 || !absl::StartsWith(version, "HTTP/") ||
      !absl::ascii_isdigit(static_cast<unsigned char>(version[5])) || version[6] != '.' ||
      !absl::ascii_isdigit(static_cast<unsigned char>(version[7]))) {
    return Fail(error, 400, "malformed HTTP version");
  }
  if (version[5] != '1') {
    return Fail(error, 505, absl::StrCat("HTTP version ", version.substr(5), " not supported"));
  }
  parsed->minor_version = version[7] == '0' ? 0 : 1;
  parsed->request.method = std::string(method);

  // origin-form "/path?query", absolute-form "http://host/path?query", or
  // asterisk-form "*" (OPTIONS).
  absl::string_view path_and_query = target;
  if (target[0] != '/' && target != "*") {
    const size_t scheme_end = target.find("://");
    if (scheme_end == absl::string_view::npos) return Fail(error, 400, "malformed request target");
    const size_t path_start = target.find('/', scheme_end + 3);
    path_and_query = path_start == absl::string_view::npos ? "/" : target.substr(path_start);
  }
  const size_t question = path_and_query.find('?');
  parsed->request.path = common::PercentDecode(path_and_query.substr(0, question));
  if (question == absl::string_view::npos) return true;
  for (absl::string_view pair :
       absl::StrSplit(path_and_query.substr(question + 1), '&', absl::SkipEmpty())) {
    const size_t equals = pair.find('=');
    const std::string name = common::PercentDecode(pair.substr(0, equals), true);
    parsed->request.query[name] = equals == absl::string_view::npos
                                      ? ""
                                      : common::PercentDecode(pair.substr(equals + 1), true);
  }
  return true;
}

}  // namespace

size_t LeadingBlankLineBytes(absl::string_view buffer) {
  size_t n = 0;
  while (n < buffer.size() && (buffer[n] == '\r' || buffer[n] == '\n')) ++n;
  return n;
}

size_t FindHeadEnd(absl::string_view buffer, size_t* scanned) {
  // The head ends at LF, optional CR, LF: an empty line after the last one.
  for (size_t i = *scanned; i < buffer.size(); ++i) {
    if (buffer[i] != '\n') continue;
    if (i + 1 >= buffer.size()) break;
    if (buffer[i + 1] == '\n') return i + 2;
    if (buffer[i + 1] != '\r') continue;
    if (i + 2 >= buffer.size()) break;
    if (buffer[i + 2] == '\n') return i + 3;
  }
  // Resume at the last LF that may still begin the end.
  const size_t last_lf = buffer.rfind('\n');
  *scanned = last_lf == absl::string_view::npos ? buffer.size() : std::max(*scanned, last_lf);
  return absl::string_view::npos;
}

bool CouldStartRequestHead(absl::string_view prefix) {
  for (char c : prefix) {
    if (c == ' ') return true;
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

bool ParseRequestHead(absl::string_view head, HttpRequestHead* parsed, HttpRequestError* error) {
  *parsed = HttpRequestHead();
  head.remove_prefix(LeadingBlankLineBytes(head));
  std::vector<absl::string_view> lines = absl::StrSplit(head, '\n');
  for (absl::string_view& line : lines) absl::ConsumeSuffix(&line, "\r");
  // The empty line that ends the head, and the empty piece after its LF.
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.empty()) return Fail(error, 400, "empty request");
  if (!ParseRequestLine(lines[0], parsed, error)) return false;

  bool has_host = false, has_length = false, has_encoding = false;
  bool close = false, keep_alive = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    const absl::string_view line = lines[i];
    if (line[0] == ' ' || line[0] == '\t') {
      return Fail(error, 400, "header line folded onto the previous one");
    }
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos || !IsToken(line.substr(0, colon))) {
      return Fail(error, 400, absl::StrCat("malformed header line ", i + 1));
    }
    const std::string name = absl::AsciiStrToLower(line.substr(0, colon));
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    for (char c : value) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        return Fail(error, 400, absl::StrCat("control character in header ", name));
      }
    }
    if (name == "host") {
      if (has_host) return Fail(error, 400, "more than one Host header");
      has_host = true;
      parsed->request.host = std::string(value);
    } else if (name == "content-length") {
      uint64_t length = 0;
      if (value.empty() ||
          !std::all_of(value.begin(), value.end(),
                       [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }) ||
          !absl::SimpleAtoi(value, &length)) {
        return Fail(error, 400, absl::StrCat("malformed Content-Length '", value, "'"));
      }
      if (has_length && length != parsed->content_length) {
        return Fail(error, 400, "conflicting Content-Length headers");
      }
      has_length = true;
      parsed->content_length = length;
    } else if (name == "transfer-encoding") {
      if (has_encoding || !absl::EqualsIgnoreCase(value, "chunked")) {
        return Fail(error, 501, absl::StrCat("transfer coding '", value, "' not supported"));
      }
      has_encoding = true;
    } else if (name == "connection") {
      for (absl::string_view option : absl::StrSplit(value, ',')) {
        option = absl::StripAsciiWhitespace(option);
        close |= absl::EqualsIgnoreCase(option, "close");
        keep_alive |= absl::EqualsIgnoreCase(option, "keep-alive");
      }
    }
  }
  if (has_length && has_encoding) {
    return Fail(error, 400, "both Content-Length and Transfer-Encoding");
  }
  if (parsed->minor_version == 1 && !has_host) return Fail(error, 400, "no Host header");
  parsed->keep_alive = !close && (parsed->minor_version == 1 || keep_alive);
  if (has_encoding) {
    parsed->body = HttpRequestHead::Body::kChunked;
  } else if (has_length && parsed->content_length > 0) {
    parsed->body = HttpRequestHead::Body::kLength;
  }
  return true;
}

BodySkipper::BodySkipper(const HttpRequestHead& head)
    : state_(head.body == HttpRequestHead::Body::kChunked  ? State::kChunkSize
             : head.body == HttpRequestHead::Body::kLength ? State::kLength
                                                           : State::kDone),
      remaining_(head.content_length) {}

size_t BodySkipper::Feed(absl::string_view bytes) {
  size_t used = 0;
  while (used < bytes.size() && state_ != State::kDone && state_ != State::kFailed) {
    if (state_ == State::kLength || state_ == State::kChunkData) {
      const uint64_t take = std::min<uint64_t>(remaining_, bytes.size() - used);
      used += take;
      remaining_ -= take;
      data_bytes_ += take;
      if (remaining_ == 0) state_ = state_ == State::kLength ? State::kDone : State::kChunkDataEnd;
    } else {
      LineByte(bytes[used++]);
    }
  }
  return used;
}

void BodySkipper::LineByte(char c) {
  if (c != '\n') {
    line_.push_back(c);
    if (line_.size() > kMaxChunkLineBytes) state_ = State::kFailed;
    if (state_ == State::kTrailer && ++trailer_bytes_ > kMaxTrailerBytes) state_ = State::kFailed;
    return;
  }
  absl::string_view line = line_;
  absl::ConsumeSuffix(&line, "\r");
  switch (state_) {
    case State::kChunkSize: {
      // 1*HEXDIG, then optional extensions after ';'.
      const absl::string_view size =
          absl::StripTrailingAsciiWhitespace(line.substr(0, line.find(';')));
      uint64_t value = 0;
      // Digits only: SimpleHexAtoi alone would also take a sign or "0x".
      const bool ok =
          !size.empty() &&
          std::all_of(size.begin(), size.end(), [](char d) { return absl::ascii_isxdigit(d); }) &&
          absl::SimpleHexAtoi(size, &value) && value <= kMaxChunkBytes;
      if (!ok) {
        state_ = State::kFailed;
      } else {
        remaining_ = value;
        state_ = value == 0 ? State::kTrailer : State::kChunkData;
      }
      break;
    }
    case State::kChunkDataEnd:
      state_ = line.empty() ? State::kChunkSize : State::kFailed;
      break;
    case State::kTrailer:
      if (line.empty()) state_ = State::kDone;
      break;
    default:
      state_ = State::kFailed;
  }
  line_.clear();
}

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string FormatResponseHead(const HttpResponse& response, bool close, int request_minor_version,
                               absl::Time now) {
  std::string head = absl::StrCat(
      "HTTP/1.1 ", response.status, " ", ReasonPhrase(response.status), "\r\n",
      "Date: ", absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", now, absl::UTCTimeZone()), "\r\n",
      "Content-Type: ", response.content_type, "\r\n", "Content-Length: ", response.body.size(),
      "\r\n");
  for (const auto& [name, value] : response.headers) {
    if (absl::StrContains(name, '\r') || absl::StrContains(name, '\n') ||
        absl::StrContains(value, '\r') || absl::StrContains(value, '\n')) {
      continue;
    }
    absl::StrAppend(&head, name, ": ", value, "\r\n");
  }
  if (close) {
    absl::StrAppend(&head, "Connection: close\r\n");
  } else if (request_minor_version == 0) {
    absl::StrAppend(&head, "Connection: keep-alive\r\n");
  }
  absl::StrAppend(&head, "\r\n");
  return head;
}

}  // namespace rtsptest::gateway
