// Plain TCP on 127.0.0.1 (see header).
#include "tests/util/loopback.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace rtsptest::testing {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

// Connects a new socket; returns 0 or the connect errno, and the socket in *fd.
int Connect(int port, int* fd) {
  *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(port);
  return connect(*fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 ? 0 : errno;
}

}  // namespace

int ConnectLoopback(int port) {
  int fd = -1;
  if (Connect(port, &fd) == 0) return fd;
  close(fd);
  return -1;
}

int ConnectErrno(int port) {
  int fd = -1;
  int result = Connect(port, &fd);
  close(fd);
  return result;
}

HeldPort::HeldPort(Mode mode) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(0);
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return;
  if (mode == Mode::kListening && listen(fd_, 8) != 0) return;
  socklen_t len = sizeof(addr);
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return;
  port_ = ntohs(addr.sin_port);
}

HeldPort::~HeldPort() {
  if (fd_ >= 0) close(fd_);
}

bool HeldPort::Accepts(absl::Duration timeout) {
  pollfd pfd{fd_, POLLIN, 0};
  if (poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) != 1) return false;
  int client = accept(fd_, nullptr, nullptr);
  if (client < 0) return false;
  close(client);
  return true;
}

}  // namespace rtsptest::testing
