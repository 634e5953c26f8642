// Plain TCP on 127.0.0.1, for tests that check what a port does below HTTP or
// RTSP (accepts, refuses, holds a slow client), and ports held by the test.
#ifndef RTSPTEST_TESTS_UTIL_LOOPBACK_H_
#define RTSPTEST_TESTS_UTIL_LOOPBACK_H_

#include "absl/time/time.h"

namespace rtsptest::testing {

// A connected blocking socket to 127.0.0.1:port, or -1. The caller closes it.
int ConnectLoopback(int port);
// errno of a connect to 127.0.0.1:port: 0 when it connects (the socket is
// closed again), e.g. ECONNREFUSED when nothing listens.
int ConnectErrno(int port);

// A 127.0.0.1 port the kernel chose (bind to port 0, read it back), held by
// this object until it is destroyed, so nothing else can take it meanwhile.
class HeldPort {
 public:
  enum class Mode {
    kRefusing,   // bound, not listening: connects are refused
    kListening,  // listening, never accepting by itself: a port that is taken
  };
  explicit HeldPort(Mode mode);
  ~HeldPort();
  HeldPort(const HeldPort&) = delete;
  HeldPort& operator=(const HeldPort&) = delete;

  // False if the socket could not be bound (or set listening).
  bool ok() const { return port_ != 0; }
  int port() const { return port_; }
  // kListening: whether a connection arrives within `timeout` (it is accepted
  // and closed).
  bool Accepts(absl::Duration timeout);

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace rtsptest::testing

#endif  // RTSPTEST_TESTS_UTIL_LOOPBACK_H_
