// TCP client helpers with deadlines: see socket_util.h.
#include "common/net/socket_util.h"

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
#include <memory>

#include "absl/strings/str_cat.h"

namespace rtsptest::common {
namespace {

// Milliseconds left before `deadline` for poll(2), rounded up so that a
// sub-millisecond remainder waits once instead of spinning; 0 when past.
int PollTimeoutMs(Clock::time_point deadline) {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 1'000'000 ? 1'000'000 : static_cast<int>(ms);
}

// Waits for `events` on `fd`. OK when ready, DeadlineExceeded on timeout.
absl::Status WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd pfd{fd, events, 0};
    const int n = ::poll(&pfd, 1, PollTimeoutMs(deadline));
    if (n > 0) return absl::OkStatus();
    if (n == 0) return absl::DeadlineExceededError("timed out");
    if (errno != EINTR) {
      return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
    }
  }
}

absl::Status ErrnoStatus(int err, absl::string_view what) {
  switch (err) {
    case ECONNREFUSED:
      return absl::UnavailableError("connection refused");
    case ECONNRESET:
    case EPIPE:
      return absl::AbortedError("connection reset by peer");
    case ETIMEDOUT:
      return absl::DeadlineExceededError("timed out");
    default:
      return absl::InternalError(absl::StrCat(what, ": ", std::strerror(err)));
  }
}

// One non-blocking connect attempt to `addr`.
absl::StatusOr<Socket> ConnectOne(const addrinfo& addr, Clock::time_point deadline) {
  // SOCK_NONBLOCK so that connect() returns at once with EINPROGRESS and the
  // deadline is enforced by poll(2), not by the kernel's SYN retries (~2 min).
  Socket socket(
      ::socket(addr.ai_family, addr.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, addr.ai_protocol));
  if (!socket.valid()) return ErrnoStatus(errno, "socket");
  // Probes send one small request and wait for it: no Nagle delay.
  const int one = 1;
  ::setsockopt(socket.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(socket.fd(), addr.ai_addr, addr.ai_addrlen) == 0) return socket;
  if (errno != EINPROGRESS) return ErrnoStatus(errno, "connect");
  absl::Status ready = WaitFor(socket.fd(), POLLOUT, deadline);
  if (!ready.ok()) return ready;
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(socket.fd(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    return ErrnoStatus(errno, "getsockopt");
  }
  if (err != 0) return ErrnoStatus(err, "connect");
  return socket;
}

}  // namespace

Clock::time_point DeadlineIn(absl::Duration timeout) {
  return Clock::now() + absl::ToChronoNanoseconds(timeout);
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.Release();
  }
  return *this;
}

Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

int Socket::Release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

absl::StatusOr<Socket> ConnectTcp(const std::string& host, int port, Clock::time_point deadline) {
  if (port < 1 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", port, ": must be 1..65535"));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  // getaddrinfo has no timeout. Literals (the usual case: 127.0.0.1, ::1)
  // resolve without I/O; names go through the system resolver, whose own
  // timeouts (resolv.conf) bound the call.
  addrinfo* result = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &result);
  if (rc != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot resolve host \"", host, "\": ", ::gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addrs(result, ::freeaddrinfo);
  // "localhost" may resolve to ::1 first while the server listens on
  // 127.0.0.1 only: try each address, report the last failure.
  absl::Status last = absl::NotFoundError(absl::StrCat("no address for host \"", host, "\""));
  for (const addrinfo* a = addrs.get(); a != nullptr; a = a->ai_next) {
    absl::StatusOr<Socket> socket = ConnectOne(*a, deadline);
    if (socket.ok()) return socket;
    last = socket.status();
    if (absl::IsDeadlineExceeded(last)) break;
  }
  return last;
}

absl::Status SendAll(const Socket& socket, absl::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    // MSG_NOSIGNAL: a peer that closed must give EPIPE, not kill the process.
    const ssize_t n = ::send(socket.fd(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return ErrnoStatus(errno, "send");
    absl::Status ready = WaitFor(socket.fd(), POLLOUT, deadline);
    if (!ready.ok()) return ready;
  }
  return absl::OkStatus();
}

namespace {

// Reads once what is available, waiting until `deadline`. Returns the number
// of bytes appended; Aborted when the peer closed.
absl::StatusOr<size_t> ReadSome(const Socket& socket, std::string* buffer,
                                Clock::time_point deadline) {
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::recv(socket.fd(), chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer->append(chunk, static_cast<size_t>(n));
      return static_cast<size_t>(n);
    }
    if (n == 0) return absl::AbortedError("connection closed by peer");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return ErrnoStatus(errno, "recv");
    absl::Status ready = WaitFor(socket.fd(), POLLIN, deadline);
    if (!ready.ok()) return ready;
  }
}

}  // namespace

absl::StatusOr<size_t> ReadUntil(const Socket& socket, std::string* buffer,
                                 absl::string_view terminator, size_t max_bytes,
                                 Clock::time_point deadline) {
  size_t searched = 0;
  for (;;) {
    const size_t pos = buffer->find(terminator.data(), searched, terminator.size());
    if (pos != std::string::npos) return pos + terminator.size();
    // The terminator may straddle two reads: search again from just before
    // the end of what we already scanned.
    if (buffer->size() >= terminator.size()) searched = buffer->size() - terminator.size() + 1;
    if (buffer->size() >= max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("reply exceeds ", max_bytes, " bytes without a header end"));
    }
    absl::StatusOr<size_t> n = ReadSome(socket, buffer, deadline);
    if (!n.ok()) return n.status();
  }
}

absl::Status ReadAtLeast(const Socket& socket, std::string* buffer, size_t size,
                         Clock::time_point deadline) {
  while (buffer->size() < size) {
    absl::StatusOr<size_t> n = ReadSome(socket, buffer, deadline);
    if (!n.ok()) return n.status();
  }
  return absl::OkStatus();
}

}  // namespace rtsptest::common
