// Plain TCP connects to 127.0.0.1, for tests that check what a port does
// below HTTP or RTSP (accepts, refuses, holds a slow client).
#ifndef RTSPTEST_TESTS_UTIL_LOOPBACK_H_
#define RTSPTEST_TESTS_UTIL_LOOPBACK_H_

namespace rtsptest::testing {

// A connected blocking socket to 127.0.0.1:port, or -1. The caller closes it.
int ConnectLoopback(int port);
// errno of a connect to 127.0.0.1:port: 0 when it connects (the socket is
// closed again), e.g. ECONNREFUSED when nothing listens.
int ConnectErrno(int port);

}  // namespace rtsptest::testing

#endif  // RTSPTEST_TESTS_UTIL_LOOPBACK_H_
