// Plain TCP connects to 127.0.0.1.
#include "tests/util/loopback.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace rtsptest::testing {
namespace {

// Connects a new socket; returns 0 or the connect errno, and the socket in *fd.
int Connect(int port, int* fd) {
  *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
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

}  // namespace rtsptest::testing
