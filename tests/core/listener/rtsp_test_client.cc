// Raw RTSP over loopback TCP (see header).
#include "tests/core/listener/rtsp_test_client.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/util/loopback.h"

namespace rtsptest::testing {

std::string Header(absl::string_view response, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(response, "\r\n")) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(':', 1));
    if (absl::EqualsIgnoreCase(kv.first, name)) {
      return std::string(absl::StripAsciiWhitespace(kv.second));
    }
  }
  return "";
}

RtspTestClient::RtspTestClient(int port) : port_(port), fd_(ConnectLoopback(port)) {}

RtspTestClient::~RtspTestClient() {
  if (fd_ >= 0) close(fd_);
}

std::string RtspTestClient::Url(absl::string_view path) const {
  return absl::StrCat("rtsp://127.0.0.1:", port_, path);
}

bool RtspTestClient::Send(const std::string& request) {
  if (fd_ < 0) return false;
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = write(fd_, request.data() + sent, request.size() - sent);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

bool RtspTestClient::Fill(absl::Duration timeout) {
  if (fd_ < 0) return false;
  pollfd pfd{fd_, POLLIN, 0};
  int ready = poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (ready <= 0) return false;
  char chunk[16384];
  ssize_t n = read(fd_, chunk, sizeof(chunk));
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<size_t>(n));
  return true;
}

void RtspTestClient::ConsumeFrames() {
  while (buffer_.size() >= 4 && buffer_[0] == '$') {
    const size_t length =
        (static_cast<unsigned char>(buffer_[2]) << 8) | static_cast<unsigned char>(buffer_[3]);
    if (buffer_.size() < 4 + length) return;
    if (buffer_[1] == 0) {
      ++rtp_packets_;
      rtp_bytes_ += static_cast<int64_t>(length);
    }
    buffer_.erase(0, 4 + length);
  }
}

std::string RtspTestClient::ReadResponse(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    ConsumeFrames();
    if (!buffer_.empty() && buffer_[0] != '$') {
      size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string response = buffer_.substr(0, end);
        size_t body = 0;
        absl::SimpleAtoi(Header(response, "Content-Length"), &body);
        if (buffer_.size() >= end + 4 + body) {
          buffer_.erase(0, end + 4 + body);
          return response;
        }
      }
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration() || !Fill(left)) return "";
  }
}

std::string RtspTestClient::Request(absl::string_view method, absl::string_view path,
                                    const std::string& headers, absl::Duration timeout) {
  std::string request =
      absl::StrCat(method, " ", Url(path), " RTSP/1.0\r\nCSeq: ", ++cseq_, "\r\n");
  if (!session_.empty()) absl::StrAppend(&request, "Session: ", session_, "\r\n");
  absl::StrAppend(&request, headers, "\r\n");
  if (!Send(request)) return "";
  return ReadResponse(timeout);
}

bool RtspTestClient::PlayTcp(absl::string_view path) {
  std::string setup = Request("SETUP", absl::StrCat(path, "/stream=0"),
                              "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n");
  if (!absl::StartsWith(setup, "RTSP/1.0 200")) return false;
  std::string session = Header(setup, "Session");
  session_ = session.substr(0, session.find(';'));
  return absl::StartsWith(Request("PLAY", path), "RTSP/1.0 200");
}

bool RtspTestClient::ReadRtp(int packets, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const int target = rtp_packets_ + packets;
  while (true) {
    ConsumeFrames();
    if (rtp_packets_ >= target) return true;
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration() || !Fill(left)) return false;
  }
}

bool RtspTestClient::WaitForEnd(absl::Duration timeout) {
  if (fd_ < 0) return true;
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left))) <= 0) return false;
    char chunk[16384];
    ssize_t n = read(fd_, chunk, sizeof(chunk));
    if (n <= 0) return true;
  }
}

}  // namespace rtsptest::testing
