// SocketPair: a connected pair of local stream sockets, for testing what a
// writer of the first end puts on the wire: the test reads the second end.
#ifndef RTSPTEST_TESTS_CORE_LISTENER_SOCKET_PAIR_H_
#define RTSPTEST_TESTS_CORE_LISTENER_SOCKET_PAIR_H_

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace rtsptest::core {

class SocketPair {
 public:
  SocketPair() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    writer_ = fds[0];
    reader_ = fds[1];
  }
  ~SocketPair() {
    close(writer_);
    close(reader_);
  }
  int writer() const { return writer_; }

  // Everything readable within `timeout`, until `want` bytes arrived.
  std::string Read(size_t want, absl::Duration timeout = absl::Seconds(5)) {
    std::string got;
    const absl::Time deadline = absl::Now() + timeout;
    while (got.size() < want && absl::Now() < deadline) {
      pollfd pfd{reader_, POLLIN, 0};
      if (poll(&pfd, 1, 50) <= 0) continue;
      char buffer[65536];
      const ssize_t n = read(reader_, buffer, sizeof(buffer));
      if (n <= 0) break;
      got.append(buffer, static_cast<size_t>(n));
    }
    return got;
  }
  bool ReaderSeesEnd(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      pollfd pfd{reader_, POLLIN, 0};
      if (poll(&pfd, 1, 50) <= 0) continue;
      char buffer[65536];
      const ssize_t n = read(reader_, buffer, sizeof(buffer));
      if (n == 0) return true;
      if (n < 0) return errno != EAGAIN;
    }
    return false;
  }

 private:
  int writer_ = -1;
  int reader_ = -1;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_TESTS_CORE_LISTENER_SOCKET_PAIR_H_
