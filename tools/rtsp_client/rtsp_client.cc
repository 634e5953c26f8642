// RtspClient implementation: non-blocking sockets with poll() deadlines.
#include "tools/rtsp_client/rtsp_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/net/host_port.h"

namespace rtsptest::tools {
namespace {

int MillisUntil(absl::Time deadline) {
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
}

absl::Status Errno(absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", strerror(errno)));
}

}  // namespace

RtspClient::RtspClient(std::string url) : url_(std::move(url)) {
  absl::string_view rest = url_;
  absl::ConsumePrefix(&rest, "rtsp://");
  absl::string_view authority = rest.substr(0, rest.find('/'));
  absl::StatusOr<common::HostPort> split = common::SplitHostPort(authority);
  if (!split.ok()) return;  // Connect() fails: no host
  host_ = split->host;
  uint32_t port = 554;
  if (split->has_port && !absl::SimpleAtoi(split->port, &port)) return;
  if (port <= 65535) port_ = static_cast<uint16_t>(port);
}

RtspClient::~RtspClient() { Close(); }

absl::Status RtspClient::Connect(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* result = nullptr;
  if (getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &result) != 0 ||
      result == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot resolve ", host_));
  }
  fd_ = socket(result->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int rc = connect(fd_, result->ai_addr, result->ai_addrlen);
  freeaddrinfo(result);
  if (rc != 0 && errno != EINPROGRESS) return Errno("connect");
  pollfd pfd{fd_, POLLOUT, 0};
  if (poll(&pfd, 1, MillisUntil(deadline)) <= 0) {
    return absl::DeadlineExceededError("connect timed out");
  }
  int error = 0;
  socklen_t len = sizeof(error);
  getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len);
  if (error != 0) {
    errno = error;
    return Errno("connect");
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return absl::OkStatus();
}

absl::Status RtspClient::FillBuffer(absl::Time deadline) {
  pollfd pfd{fd_, POLLIN, 0};
  int ready = poll(&pfd, 1, MillisUntil(deadline));
  if (ready == 0) return absl::DeadlineExceededError("timed out waiting for the server");
  if (ready < 0) return Errno("poll");
  char chunk[16384];
  ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
  if (n == 0) return absl::UnavailableError("server closed the connection");
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return absl::OkStatus();
    return Errno("recv");
  }
  buffer_.append(chunk, static_cast<size_t>(n));
  return absl::OkStatus();
}

absl::StatusOr<RtspResponse> RtspClient::ReadResponse(absl::Time deadline) {
  while (true) {
    // Skip interleaved media frames ($ channel len16 payload) before replies.
    while (!buffer_.empty() && buffer_[0] == '$') {
      if (buffer_.size() < 4) break;
      size_t len =
          (static_cast<unsigned char>(buffer_[2]) << 8) | static_cast<unsigned char>(buffer_[3]);
      if (buffer_.size() < 4 + len) break;
      buffer_.erase(0, 4 + len);
    }
    size_t end = buffer_.find("\r\n\r\n");
    if (!buffer_.empty() && buffer_[0] != '$' && end != std::string::npos) {
      absl::StatusOr<RtspResponse> parsed =
          common::ParseRtspResponseHead(absl::string_view(buffer_).substr(0, end));
      if (!parsed.ok()) return absl::DataLossError(parsed.status().message());
      RtspResponse& response = *parsed;
      const size_t body_len = response.ContentLength();
      while (buffer_.size() < end + 4 + body_len) {
        absl::Status status = FillBuffer(deadline);
        if (!status.ok()) return status;
      }
      response.body = buffer_.substr(end + 4, body_len);
      buffer_.erase(0, end + 4 + body_len);
      return parsed;
    }
    absl::Status status = FillBuffer(deadline);
    if (!status.ok()) return status;
  }
}

absl::StatusOr<RtspResponse> RtspClient::Request(absl::string_view method, absl::string_view url,
                                                 const std::vector<std::string>& extra_headers,
                                                 absl::Duration timeout) {
  if (fd_ < 0) return absl::FailedPreconditionError("not connected");
  absl::Time deadline = absl::Now() + timeout;
  std::string request = absl::StrCat(method, " ", url, " RTSP/1.0\r\nCSeq: ", ++cseq_,
                                     "\r\nUser-Agent: rtsp-test-server-bench/1\r\n");
  if (!session_.empty()) absl::StrAppend(&request, "Session: ", session_, "\r\n");
  for (const std::string& header : extra_headers) absl::StrAppend(&request, header, "\r\n");
  request.append("\r\n");
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno != EAGAIN) return Errno("send");
      pollfd pfd{fd_, POLLOUT, 0};
      if (poll(&pfd, 1, MillisUntil(deadline)) <= 0)
        return absl::DeadlineExceededError("send timed out");
      continue;
    }
    sent += static_cast<size_t>(n);
  }
  absl::StatusOr<RtspResponse> response = ReadResponse(deadline);
  if (!response.ok()) return response.status();
  if (response->status_code != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat(method, " ", url, ": ", response->status_line));
  }
  return response;
}

absl::StatusOr<RtspResponse> RtspClient::Options(absl::Duration timeout) {
  return Request("OPTIONS", url_, {}, timeout);
}

absl::StatusOr<RtspResponse> RtspClient::Describe(absl::Duration timeout) {
  absl::StatusOr<RtspResponse> response =
      Request("DESCRIBE", url_, {"Accept: application/sdp"}, timeout);
  if (!response.ok()) return response;
  std::string base = url_;
  auto it = response->headers.find("content-base");
  if (it != response->headers.end()) base = it->second;
  track_urls_.clear();
  bool in_media = false;
  for (absl::string_view line :
       absl::StrSplit(response->body, absl::ByAnyChar("\r\n"), absl::SkipEmpty())) {
    if (absl::StartsWith(line, "m=")) in_media = true;
    if (in_media && absl::ConsumePrefix(&line, "a=control:")) {
      if (absl::StartsWith(line, "rtsp://")) {
        track_urls_.push_back(std::string(line));
      } else {
        track_urls_.push_back(absl::StrCat(absl::StripSuffix(base, "/"), "/", line));
      }
    }
  }
  if (track_urls_.empty()) return absl::DataLossError("SDP has no media tracks");
  return response;
}

absl::Status RtspClient::SetupAll(Transport transport, absl::Duration timeout) {
  int channel = 0;
  for (const std::string& track : track_urls_) {
    std::string header;
    if (transport == Transport::kTcpInterleaved) {
      header =
          absl::StrCat("Transport: RTP/AVP/TCP;unicast;interleaved=", channel, "-", channel + 1);
      channel += 2;
    } else {
      // Two adjacent UDP ports: bind an even port, then the next one.
      int rtp = -1, rtcp = -1;
      for (int attempt = 0; attempt < 32 && rtcp < 0; ++attempt) {
        rtp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(rtp, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
        socklen_t len = sizeof(addr);
        getsockname(rtp, reinterpret_cast<sockaddr*>(&addr), &len);
        uint16_t port = ntohs(addr.sin_port);
        if (port % 2 != 0 || port == 65534) {
          close(rtp);
          continue;
        }
        rtcp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        addr.sin_port = htons(port + 1);
        if (bind(rtcp, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
          close(rtcp);
          close(rtp);
          rtcp = -1;
          continue;
        }
        header = absl::StrCat("Transport: RTP/AVP;unicast;client_port=", port, "-", port + 1);
      }
      if (rtcp < 0) return absl::ResourceExhaustedError("no free UDP port pair");
      udp_fds_.push_back(rtp);
      udp_fds_.push_back(rtcp);
    }
    absl::StatusOr<RtspResponse> response = Request("SETUP", track, {header}, timeout);
    if (!response.ok()) return response.status();
    auto it = response->headers.find("session");
    if (it != response->headers.end()) {
      session_ = std::string(absl::string_view(it->second).substr(0, it->second.find(';')));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RtspResponse> RtspClient::Play(absl::Duration timeout, absl::string_view range) {
  return Request("PLAY", url_, {absl::StrCat("Range: ", range)}, timeout);
}

absl::StatusOr<RtspResponse> RtspClient::Pause(absl::Duration timeout) {
  return Request("PAUSE", url_, {}, timeout);
}

absl::Status RtspClient::Teardown(absl::Duration timeout) {
  return Request("TEARDOWN", url_, {}, timeout).status();
}

absl::StatusOr<int64_t> RtspClient::ReadMedia(absl::Duration duration) {
  return ReadMedia(duration, nullptr);
}

absl::StatusOr<int64_t> RtspClient::ReadMedia(absl::Duration duration, const PacketFn& on_packet) {
  absl::Time deadline = absl::Now() + duration;
  int64_t packets = 0;
  std::vector<pollfd> fds;
  fds.push_back({fd_, POLLIN, 0});
  for (int fd : udp_fds_) fds.push_back({fd, POLLIN, 0});
  char chunk[65536];
  while (absl::Now() < deadline) {
    int ready = poll(fds.data(), fds.size(), MillisUntil(deadline));
    if (ready < 0) return Errno("poll");
    if (ready == 0) break;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = recv(fds[i].fd, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (i == 0)
          return packets > 0 ? absl::StatusOr<int64_t>(packets)
                             : absl::UnavailableError("server closed the connection");
        continue;
      }
      media_bytes_ += n;
      if (i > 0) {
        // RTP sockets are the odd entries; track k's is entry 2k + 1, and
        // its packets go to `on_packet` as channel 2k, as on TCP.
        if (i % 2 == 1) {
          ++packets;
          if (on_packet && !on_packet(static_cast<int>(i) - 1, absl::string_view(chunk, n))) {
            return packets;
          }
        }
        continue;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
      // Count complete interleaved frames on even (RTP) channels.
      while (buffer_.size() >= 4 && buffer_[0] == '$') {
        size_t len =
            (static_cast<unsigned char>(buffer_[2]) << 8) | static_cast<unsigned char>(buffer_[3]);
        if (buffer_.size() < 4 + len) break;
        const int channel = static_cast<unsigned char>(buffer_[1]);
        bool more = true;
        if (channel % 2 == 0) {
          ++packets;
          if (on_packet) more = on_packet(channel, absl::string_view(buffer_).substr(4, len));
        }
        buffer_.erase(0, 4 + len);
        if (!more) return packets;
      }
      // Anything else (e.g. a server request) is dropped.
      if (!buffer_.empty() && buffer_[0] != '$') {
        size_t next = buffer_.find('$');
        buffer_.erase(0, next == std::string::npos ? buffer_.size() : next);
      }
    }
  }
  return packets;
}

void RtspClient::Close(bool reset) {
  if (fd_ >= 0) {
    if (reset) {
      linger lg{1, 0};  // close() now sends RST instead of FIN.
      setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    close(fd_);
    fd_ = -1;
  }
  for (int fd : udp_fds_) close(fd);
  udp_fds_.clear();
}

}  // namespace rtsptest::tools
