// LoopbackResponder: a scripted TCP server on loopback for health tests.
//
// It plays an RTSP server (answers OPTIONS/DESCRIBE), a stalled RTSP loop
// (accepts, reads, never answers), a wrong protocol, or an HTTP endpoint,
// on an ephemeral port. One thread polls the listening socket and every
// connection, so a stalled connection never blocks another one.
#ifndef RTSPTEST_TESTS_UTIL_LOOPBACK_RESPONDER_H_
#define RTSPTEST_TESTS_UTIL_LOOPBACK_RESPONDER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace rtsptest::testing {

class LoopbackResponder {
 public:
  struct Reply {
    std::string data;
    bool close_after = false;  // Close the connection once sent (HTTP/1.0).
  };
  // Called with each complete request header ("...\r\n\r\n"). nullopt: say
  // nothing and keep the connection open (a stalled server).
  using Handler = std::function<std::optional<Reply>(const std::string& request)>;

  // Answers OPTIONS and DESCRIBE with 200 (DESCRIBE with a small SDP),
  // echoing CSeq, like gst-rtsp-server.
  static Handler RtspOk();
  // Accepts and reads, never answers.
  static Handler Stall();
  // Sends `data` to every request; closes after it when `close_after`.
  static Handler Fixed(std::string data, bool close_after = true);

  // Listens on `address` ("127.0.0.1" or "::1") port `port` (0: ephemeral).
  static absl::StatusOr<std::unique_ptr<LoopbackResponder>> Start(
      Handler handler, const std::string& address = "127.0.0.1", int port = 0);
  ~LoopbackResponder();

  int port() const { return port_; }
  const std::string& address() const { return address_; }
  // Connections accepted so far.
  int accepted() const { return accepted_.load(); }

  // Closes the listening socket and every connection: the port refuses.
  void Close();
  // Listens again on the same port (SO_REUSEADDR covers TIME_WAIT).
  absl::Status Reopen();

 private:
  LoopbackResponder(Handler handler, std::string address)
      : handler_(std::move(handler)), address_(std::move(address)) {}
  absl::Status Listen(int port);
  void Loop();

  Handler handler_;
  std::string address_;
  int port_ = 0;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: tells Loop() to exit.
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// A free port on 127.0.0.1 right now: bound, then closed, so connecting to
// it is refused (until someone else takes it, which ephemeral ports make
// unlikely during a test).
int RefusedPort();

// A listener whose accept queue is full, so that the kernel drops new SYNs
// and a connect to it times out: the hermetic stand-in for a black-holed
// host.
class BacklogFullListener {
 public:
  static absl::StatusOr<std::unique_ptr<BacklogFullListener>> Start();
  ~BacklogFullListener();
  int port() const { return port_; }

 private:
  BacklogFullListener() = default;
  int listen_fd_ = -1;
  int filler_fds_[4] = {-1, -1, -1, -1};
  int port_ = 0;
};

// True when ::1 can be bound here (some containers have no IPv6).
bool HaveIpv6Loopback();

}  // namespace rtsptest::testing

#endif  // RTSPTEST_TESTS_UTIL_LOOPBACK_RESPONDER_H_
