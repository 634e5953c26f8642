// Blocking-with-deadline TCP client helpers for the health probes.
//
// Health probes must never hang: every call here takes an absolute deadline
// on the monotonic clock and uses a non-blocking socket plus poll(2), so a
// peer that accepts but never answers costs at most the deadline. Status
// codes carry the failure kind the callers map to probe results:
//   NotFound          the host name does not resolve
//   Unavailable       connection refused (nothing listens on the port)
//   DeadlineExceeded  the deadline passed (connect or read)
//   Aborted           the peer closed or reset the connection
//   Internal          any other socket error (message has strerror)
#ifndef RTSPTEST_COMMON_NET_SOCKET_UTIL_H_
#define RTSPTEST_COMMON_NET_SOCKET_UTIL_H_

#include <chrono>
#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rtsptest::common {

using Clock = std::chrono::steady_clock;

// The deadline `timeout` from now on the monotonic clock.
Clock::time_point DeadlineIn(absl::Duration timeout);

// Owns a file descriptor; closes it on destruction.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(other.Release()) {}
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket();

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();

 private:
  int fd_ = -1;
};

// Resolves `host` (a literal or a name) and connects to the first address
// that accepts before `deadline`. The returned socket is non-blocking.
absl::StatusOr<Socket> ConnectTcp(const std::string& host, int port, Clock::time_point deadline);

// Writes all of `data` before `deadline`. Never raises SIGPIPE.
absl::Status SendAll(const Socket& socket, absl::string_view data, Clock::time_point deadline);

// Appends to `*buffer` until it contains `terminator` (returns the offset
// just past it), `max_bytes` are buffered (InvalidArgument, the reply is too
// large to be what we asked for), the peer closes (Aborted) or `deadline`
// passes (DeadlineExceeded). Bytes read past the terminator stay in *buffer.
absl::StatusOr<size_t> ReadUntil(const Socket& socket, std::string* buffer,
                                 absl::string_view terminator, size_t max_bytes,
                                 Clock::time_point deadline);

// Appends to `*buffer` until it holds at least `size` bytes.
absl::Status ReadAtLeast(const Socket& socket, std::string* buffer, size_t size,
                         Clock::time_point deadline);

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_NET_SOCKET_UTIL_H_
