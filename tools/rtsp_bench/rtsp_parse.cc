// RTSP and SDP parsing for rtsp_bench (see rtsp_parse.h).
#include "tools/rtsp_bench/rtsp_parse.h"

#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/net/host_port.h"
#include "common/net/percent_decode.h"

namespace rtsptest::tools::bench {
namespace {

// Static RTP payload types (RFC 3551 table 4/5): name and clock rate.
struct StaticType {
  int type;
  const char* name;
  int clock_rate;
};
constexpr StaticType kStaticTypes[] = {
    {0, "PCMU", 8000},   {3, "GSM", 8000},    {4, "G723", 8000},   {5, "DVI4", 8000},
    {6, "DVI4", 16000},  {7, "LPC", 8000},    {8, "PCMA", 8000},   {9, "G722", 8000},
    {10, "L16", 44100},  {11, "L16", 44100},  {12, "QCELP", 8000}, {13, "CN", 8000},
    {14, "MPA", 90000},  {15, "G728", 8000},  {16, "DVI4", 11025}, {17, "DVI4", 22050},
    {18, "G729", 8000},  {25, "CelB", 90000}, {26, "JPEG", 90000}, {28, "nv", 90000},
    {31, "H261", 90000}, {32, "MPV", 90000},  {33, "MP2T", 90000}, {34, "H263", 90000},
};

bool IsAbsolute(absl::string_view url) {
  return absl::StartsWithIgnoreCase(url, "rtsp://") || absl::StartsWithIgnoreCase(url, "rtsps://");
}

bool ParsePort(absl::string_view text, int* port) {
  return absl::SimpleAtoi(text, port) && *port >= 0 && *port <= 65535;
}

// "a-b" or "a" into two ints (b = a + 1 when absent).
bool ParseRange(absl::string_view text, int* first, int* second) {
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(text, absl::MaxSplits('-', 1));
  if (!ParsePort(parts.first, first)) return false;
  if (parts.second.empty()) {
    *second = *first + 1;
    return true;
  }
  return ParsePort(parts.second, second);
}

}  // namespace

absl::StatusOr<RtspUrl> ParseRtspUrl(absl::string_view text) {
  absl::string_view rest = absl::StripAsciiWhitespace(text);
  if (!absl::ConsumePrefix(&rest, "rtsp://")) {
    return absl::InvalidArgumentError(absl::StrCat("url ", text, ": must start with rtsp://"));
  }
  const size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  absl::string_view path = slash == absl::string_view::npos ? "" : rest.substr(slash);
  std::string user, password;
  if (const size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    const absl::string_view info = authority.substr(0, at);
    const size_t colon = info.find(':');
    user = common::PercentDecode(info.substr(0, colon));
    if (colon != absl::string_view::npos) password = common::PercentDecode(info.substr(colon + 1));
    authority.remove_prefix(at + 1);
  }
  absl::StatusOr<common::HostPort> host_port = common::SplitHostPort(authority);
  if (!host_port.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("url ", text, ": ", host_port.status().message()));
  }
  RtspUrl url;
  url.host = host_port->host;
  if (url.host.empty()) return absl::InvalidArgumentError(absl::StrCat("url ", text, ": no host"));
  if (host_port->has_port && (!ParsePort(host_port->port, &url.port) || url.port == 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("url ", text, ": port '", host_port->port, "' must be 1..65535"));
  }
  url.url = absl::StrCat("rtsp://", authority, path.empty() ? "/" : path);
  url.user = std::move(user);
  url.password = std::move(password);
  return url;
}

std::string ResolveControl(absl::string_view base_url, absl::string_view control) {
  if (control.empty() || control == "*") return std::string(base_url);
  if (IsAbsolute(control)) return std::string(control);
  if (absl::EndsWith(base_url, "/")) return absl::StrCat(base_url, control);
  return absl::StrCat(base_url, "/", control);
}

absl::StatusOr<SdpDescription> ParseSdp(absl::string_view sdp, absl::string_view base_url) {
  SdpDescription description;
  std::string base(base_url);
  std::string session_control;
  std::vector<std::string> controls;  // per track, unresolved
  // Per track: payload type -> (encoding, clock rate) from a=rtpmap.
  std::vector<std::map<int, std::pair<std::string, int>>> rtpmaps;
  for (absl::string_view line : absl::StrSplit(sdp, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    if (absl::ConsumePrefix(&line, "m=")) {
      // m=<media> <port> <proto> <fmt> ...
      std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
      SdpTrack track;
      track.media = std::string(fields.empty() ? "" : fields[0]);
      if (fields.size() >= 4) (void)absl::SimpleAtoi(fields[3], &track.payload_type);
      description.tracks.push_back(track);
      controls.emplace_back();
      rtpmaps.emplace_back();
      continue;
    }
    if (absl::ConsumePrefix(&line, "a=control:")) {
      line = absl::StripAsciiWhitespace(line);
      if (description.tracks.empty()) {
        session_control = std::string(line);
      } else {
        controls.back() = std::string(line);
      }
      continue;
    }
    if (absl::ConsumePrefix(&line, "a=rtpmap:") && !description.tracks.empty()) {
      // a=rtpmap:<pt> <encoding>/<clock>[/<channels>]
      std::pair<absl::string_view, absl::string_view> parts =
          absl::StrSplit(line, absl::MaxSplits(' ', 1));
      int type = -1;
      if (!absl::SimpleAtoi(parts.first, &type)) continue;
      std::vector<absl::string_view> encoding =
          absl::StrSplit(absl::StripAsciiWhitespace(parts.second), '/');
      int clock = 0;
      if (encoding.size() >= 2) (void)absl::SimpleAtoi(encoding[1], &clock);
      rtpmaps.back()[type] = {std::string(encoding[0]), clock};
    }
  }
  if (description.tracks.empty()) return absl::InvalidArgumentError("SDP has no m= line");
  // A session-level absolute control is the base of the tracks' relative ones.
  if (!session_control.empty() && IsAbsolute(session_control)) base = session_control;
  description.aggregate_url =
      session_control.empty() ? base : ResolveControl(base, session_control);
  for (size_t i = 0; i < description.tracks.size(); ++i) {
    SdpTrack& track = description.tracks[i];
    track.control_url = ResolveControl(base, controls[i]);
    auto it = rtpmaps[i].find(track.payload_type);
    if (it != rtpmaps[i].end()) {
      track.encoding = it->second.first;
      track.clock_rate = it->second.second;
      continue;
    }
    for (const StaticType& known : kStaticTypes) {
      if (known.type == track.payload_type) {
        track.encoding = known.name;
        track.clock_rate = known.clock_rate;
      }
    }
  }
  return description;
}

absl::StatusOr<TransportReply> ParseTransport(absl::string_view header) {
  // Several transports may be offered, comma-separated; a reply has one.
  absl::string_view first = absl::StripAsciiWhitespace(header.substr(0, header.find(',')));
  if (first.empty()) return absl::InvalidArgumentError("empty Transport header");
  TransportReply reply;
  bool first_field = true;
  for (absl::string_view field : absl::StrSplit(first, ';', absl::SkipEmpty())) {
    field = absl::StripAsciiWhitespace(field);
    if (first_field) {
      reply.tcp = absl::EndsWithIgnoreCase(field, "/TCP");
      first_field = false;
      continue;
    }
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(field, absl::MaxSplits('=', 1));
    const std::string key = absl::AsciiStrToLower(kv.first);
    bool ok = true;
    if (key == "interleaved") {
      ok = ParseRange(kv.second, &reply.interleaved_rtp, &reply.interleaved_rtcp);
    } else if (key == "server_port") {
      ok = ParseRange(kv.second, &reply.server_rtp_port, &reply.server_rtcp_port);
    } else if (key == "client_port") {
      int unused = 0;
      ok = ParseRange(kv.second, &reply.client_rtp_port, &unused);
    } else if (key == "ssrc") {
      uint32_t ssrc = 0;
      ok = absl::SimpleHexAtoi(kv.second, &ssrc);
      if (ok) reply.ssrc = ssrc;
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat("Transport header ", header, ": bad ", field));
    }
  }
  return reply;
}

absl::StatusOr<SessionHeader> ParseSession(absl::string_view header) {
  std::vector<absl::string_view> fields = absl::StrSplit(header, ';');
  SessionHeader session;
  session.id = std::string(absl::StripAsciiWhitespace(fields[0]));
  if (session.id.empty()) return absl::InvalidArgumentError("empty Session header");
  for (size_t i = 1; i < fields.size(); ++i) {
    absl::string_view field = absl::StripAsciiWhitespace(fields[i]);
    if (absl::ConsumePrefix(&field, "timeout=")) {
      int seconds = 0;
      if (!absl::SimpleAtoi(field, &seconds) || seconds <= 0) {
        return absl::InvalidArgumentError(absl::StrCat("Session header ", header, ": bad timeout"));
      }
      session.timeout_seconds = seconds;
    }
  }
  return session;
}

std::string ReplyToServer(absl::string_view request_head) {
  std::string cseq = "0";
  absl::string_view method = request_head.substr(0, request_head.find(' '));
  for (absl::string_view line : absl::StrSplit(request_head, "\r\n")) {
    if (absl::StartsWithIgnoreCase(line, "cseq:")) {
      cseq = std::string(absl::StripAsciiWhitespace(line.substr(5)));
    }
  }
  const bool known = method == "OPTIONS" || method == "GET_PARAMETER";
  return absl::StrCat("RTSP/1.0 ", known ? "200 OK" : "501 Not Implemented", "\r\nCSeq: ", cseq,
                      "\r\n\r\n");
}

void InterleavedSplitter::Append(absl::string_view data) {
  if (offset_ > 0) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  buffer_.append(data.data(), data.size());
}

void InterleavedSplitter::Compact() {
  if (offset_ > 0) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  if (buffer_.empty() && buffer_.capacity() > 64 * 1024) std::string().swap(buffer_);
}

InterleavedSplitter::Unit InterleavedSplitter::Next() {
  Unit unit;
  absl::string_view rest(buffer_.data() + offset_, buffer_.size() - offset_);
  if (rest.empty()) return unit;
  if (rest[0] == '$') {
    if (rest.size() < 4) return unit;
    const auto* p = reinterpret_cast<const uint8_t*>(rest.data());
    const size_t length = (size_t{p[2]} << 8) | p[3];
    if (rest.size() < 4 + length) return unit;
    unit.kind = Kind::kFrame;
    unit.channel = p[1];
    unit.payload = rest.substr(4, length);
    offset_ += 4 + length;
    return unit;
  }
  const size_t head_end = rest.find(common::kRtspHeadEnd);
  if (head_end == absl::string_view::npos) {
    // A head must start like one: "RTSP/" or a method in capitals.
    const char c = rest[0];
    if (!(c >= 'A' && c <= 'Z')) {
      unit.kind = Kind::kError;
      unit.error = absl::StrCat("unexpected byte 0x", absl::Hex(static_cast<uint8_t>(c)),
                                " where an RTSP message or '$' frame should start");
    } else if (rest.size() > kMaxHead) {
      unit.kind = Kind::kError;
      unit.error = absl::StrCat("RTSP head longer than ", kMaxHead, " bytes");
    }
    return unit;
  }
  absl::string_view head = rest.substr(0, head_end);
  const size_t body_start = head_end + common::kRtspHeadEnd.size();
  if (absl::StartsWith(head, "RTSP/")) {
    absl::StatusOr<common::RtspResponse> response = common::ParseRtspResponseHead(head);
    if (!response.ok()) {
      unit.kind = Kind::kError;
      unit.error = std::string(response.status().message());
      return unit;
    }
    const size_t length = response->ContentLength();
    if (length > kMaxBody) {
      unit.kind = Kind::kError;
      unit.error = absl::StrCat("RTSP body of ", length, " bytes (limit ", kMaxBody, ")");
      return unit;
    }
    if (rest.size() < body_start + length) return unit;
    unit.kind = Kind::kResponse;
    unit.response = *std::move(response);
    unit.response.body = std::string(rest.substr(body_start, length));
    offset_ += body_start + length;
    return unit;
  }
  // A request from the server (e.g. ANNOUNCE, GET_PARAMETER): skip it whole.
  size_t length = 0;
  for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
    if (absl::StartsWithIgnoreCase(line, "content-length:")) {
      (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(15)), &length);
    }
  }
  if (length > kMaxBody) {
    unit.kind = Kind::kError;
    unit.error = absl::StrCat("RTSP body of ", length, " bytes (limit ", kMaxBody, ")");
    return unit;
  }
  if (rest.size() < body_start + length) return unit;
  unit.kind = Kind::kRequest;
  unit.payload = head;
  offset_ += body_start + length;
  return unit;
}

}  // namespace rtsptest::tools::bench
