// LoopbackResponder: see loopback_responder.h.
#include "tests/util/loopback_responder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace rtsptest::testing {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Fills a sockaddr for a loopback literal.
absl::StatusOr<socklen_t> MakeAddress(const std::string& address, int port,
                                      sockaddr_storage* storage) {
  std::memset(storage, 0, sizeof(*storage));
  auto* v4 = reinterpret_cast<sockaddr_in*>(storage);
  if (::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    return static_cast<socklen_t>(sizeof(sockaddr_in));
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(storage);
  if (::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    return static_cast<socklen_t>(sizeof(sockaddr_in6));
  }
  return absl::InvalidArgumentError("not an IP literal: " + address);
}

// Binds a listening socket; returns its fd and the bound port.
absl::StatusOr<std::pair<int, int>> BindListener(const std::string& address, int port,
                                                 int backlog) {
  sockaddr_storage storage;
  absl::StatusOr<socklen_t> len = MakeAddress(address, port, &storage);
  if (!len.ok()) return len.status();
  const int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), *len) != 0 || ::listen(fd, backlog) != 0) {
    absl::Status status = Errno(absl::StrCat("bind/listen ", address, ":", port));
    ::close(fd);
    return status;
  }
  socklen_t bound_len = sizeof(storage);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &bound_len);
  const int bound_port = storage.ss_family == AF_INET
                             ? ntohs(reinterpret_cast<sockaddr_in*>(&storage)->sin_port)
                             : ntohs(reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
  return std::make_pair(fd, bound_port);
}

std::string HeaderValue(const std::string& request, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(request, "\r\n")) {
    const size_t colon = line.find(':');
    if (colon != absl::string_view::npos &&
        absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(line.substr(0, colon)), name)) {
      return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
  }
  return "";
}

}  // namespace

LoopbackResponder::Handler LoopbackResponder::RtspOk() {
  return [](const std::string& request) -> std::optional<Reply> {
    const std::string cseq = HeaderValue(request, "CSeq");
    if (absl::StartsWith(request, "OPTIONS ")) {
      return Reply{absl::StrCat("RTSP/1.0 200 OK\r\nCSeq: ", cseq,
                                "\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n")};
    }
    if (absl::StartsWith(request, "DESCRIBE ")) {
      const std::string sdp =
          "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=test\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n";
      return Reply{absl::StrCat("RTSP/1.0 200 OK\r\nCSeq: ", cseq,
                                "\r\nContent-Type: application/sdp\r\nContent-Length: ", sdp.size(),
                                "\r\n\r\n", sdp)};
    }
    return Reply{absl::StrCat("RTSP/1.0 405 Method Not Allowed\r\nCSeq: ", cseq, "\r\n\r\n")};
  };
}

LoopbackResponder::Handler LoopbackResponder::Stall() {
  return [](const std::string&) -> std::optional<Reply> { return std::nullopt; };
}

LoopbackResponder::Handler LoopbackResponder::Fixed(std::string data, bool close_after) {
  return [data = std::move(data), close_after](const std::string&) -> std::optional<Reply> {
    return Reply{data, close_after};
  };
}

absl::StatusOr<std::unique_ptr<LoopbackResponder>> LoopbackResponder::Start(
    Handler handler, const std::string& address, int port) {
  std::unique_ptr<LoopbackResponder> r(new LoopbackResponder(std::move(handler), address));
  if (absl::Status s = r->Listen(port); !s.ok()) return s;
  return r;
}

absl::Status LoopbackResponder::Listen(int port) {
  absl::StatusOr<std::pair<int, int>> bound = BindListener(address_, port, 64);
  if (!bound.ok()) return bound.status();
  listen_fd_ = bound->first;
  port_ = bound->second;
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) return Errno("eventfd");
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

LoopbackResponder::~LoopbackResponder() { Close(); }

void LoopbackResponder::Close() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
  thread_.join();
  ::close(wake_fd_);
  ::close(listen_fd_);
  wake_fd_ = listen_fd_ = -1;
}

absl::Status LoopbackResponder::Reopen() {
  Close();
  return Listen(port_);
}

void LoopbackResponder::Loop() {
  std::map<int, std::string> connections;  // fd -> bytes not yet answered
  std::map<int, bool> stalled;
  for (;;) {
    std::vector<pollfd> fds = {{wake_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const auto& [fd, buffer] : connections) fds.push_back({fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) break;
    if (fds[1].revents & POLLIN) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        ++accepted_;
        connections[fd] = "";
      }
    }
    for (size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      const int fd = fds[i].fd;
      char chunk[4096];
      const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        ::close(fd);
        connections.erase(fd);
        stalled.erase(fd);
        continue;
      }
      if (stalled[fd]) continue;
      std::string& buffer = connections[fd];
      buffer.append(chunk, static_cast<size_t>(n));
      bool close_now = false;
      for (size_t end; !close_now && (end = buffer.find("\r\n\r\n")) != std::string::npos;) {
        const std::string request = buffer.substr(0, end + 4);
        buffer.erase(0, end + 4);
        std::optional<Reply> reply = handler_(request);
        if (!reply.has_value()) {
          stalled[fd] = true;
          break;
        }
        // Replies are small: a blocking send on loopback completes at once.
        (void)!::send(fd, reply->data.data(), reply->data.size(), MSG_NOSIGNAL);
        close_now = reply->close_after;
      }
      if (close_now) {
        ::close(fd);
        connections.erase(fd);
        stalled.erase(fd);
      }
    }
  }
  for (const auto& [fd, buffer] : connections) ::close(fd);
}

int RefusedPort() {
  absl::StatusOr<std::pair<int, int>> bound = BindListener("127.0.0.1", 0, 1);
  if (!bound.ok()) return 0;
  ::close(bound->first);
  return bound->second;
}

absl::StatusOr<std::unique_ptr<BacklogFullListener>> BacklogFullListener::Start() {
  // listen(fd, 0): the accept queue holds one connection. Fill it (plus a
  // few more, in case the kernel rounds up), never accept: further SYNs are
  // dropped and connects hang until the caller's timeout.
  absl::StatusOr<std::pair<int, int>> bound = BindListener("127.0.0.1", 0, 0);
  if (!bound.ok()) return bound.status();
  std::unique_ptr<BacklogFullListener> l(new BacklogFullListener());
  l->listen_fd_ = bound->first;
  l->port_ = bound->second;
  sockaddr_storage storage;
  absl::StatusOr<socklen_t> len = MakeAddress("127.0.0.1", l->port_, &storage);
  if (!len.ok()) return len.status();
  for (int& fd : l->filler_fds_) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&storage), *len);
  }
  return l;
}

BacklogFullListener::~BacklogFullListener() {
  for (int fd : filler_fds_) {
    if (fd >= 0) ::close(fd);
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

bool HaveIpv6Loopback() {
  absl::StatusOr<std::pair<int, int>> bound = BindListener("::1", 0, 1);
  if (!bound.ok()) return false;
  ::close(bound->first);
  return true;
}

}  // namespace rtsptest::testing
