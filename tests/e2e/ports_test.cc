// Ports: a listener whose port is already taken at start is logged and stays
// down while the others serve; when no listener can bind, the server exits 1.
//
// The test itself holds the "taken" ports with listening sockets on
// 127.0.0.1, the address the server binds (--bind=127.0.0.1).
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/rtsp_client/rtsp_client.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"

namespace rtsptest::testing {
namespace {

using bench::RtspClient;
using bench::RtspResponse;

constexpr absl::Duration kStepTimeout = absl::Seconds(10);

constexpr char kConfig[] = R"yaml(
streams:
  - path: /cam
    plugin: testpattern
    parameters: {codec: mjpeg, width: 320, height: 240, fps: 5, overlay: false}
drain_timeout: 0s
)yaml";

// A TCP socket listening on 127.0.0.1:<kernel-chosen port>, closed on scope exit.
class TakenPort {
 public:
  TakenPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 && listen(fd_, 8) == 0;
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~TakenPort() { close(fd_); }
  bool ok() const { return ok_; }
  int port() const { return port_; }
  // True if a connection arrives on this socket within `timeout`.
  bool Accepts(absl::Duration timeout) {
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) != 1) return false;
    int client = accept(fd_, nullptr, nullptr);
    if (client < 0) return false;
    close(client);
    return true;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  bool ok_ = false;
};

// The log line (JSON) that contains all of `parts`, or "".
std::string FindLogLine(const std::string& output, const std::vector<std::string>& parts) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    bool all = true;
    for (const std::string& part : parts) all &= line.find(part) != absl::string_view::npos;
    if (all) return std::string(line);
  }
  return "";
}

TEST(PortsTest, TakenPortLeavesTheOtherThreeServing) {
  TakenPort taken;
  ASSERT_TRUE(taken.ok());
  const std::vector<int> ports = {PickFreePort(), taken.port(), PickFreePort(), PickFreePort()};

  ServerProcess server;
  ASSERT_TRUE(server
                  .StartWithConfig(kConfig, {absl::StrCat("--rtsp_ports=", absl::StrJoin(ports, ",")),
                                             "--bind=127.0.0.1"})
                  .ok())
      << server.output();

  // The failure is logged as an error that names the listener and the port.
  const std::string error_line =
      FindLogLine(server.output(), {"\"level\":\"error\"", "\"msg\":\"listener failed to bind; it stays down\""});
  ASSERT_FALSE(error_line.empty()) << server.output();
  EXPECT_NE(error_line.find(absl::StrCat("\"listener\":\"rtsp-", taken.port(), "\"")), std::string::npos)
      << error_line;
  EXPECT_NE(error_line.find(absl::StrCat("\"port\":", taken.port())), std::string::npos) << error_line;
  EXPECT_EQ(server.port(absl::StrCat("rtsp-", taken.port())), 0);

  for (int port : ports) {
    if (port == taken.port()) continue;
    const std::string listener = absl::StrCat("rtsp-", port);
    ASSERT_EQ(server.port(listener), port) << server.output();
    RtspClient client(server.url(listener, "/cam"));
    ASSERT_TRUE(client.Connect(kStepTimeout).ok()) << listener;
    absl::StatusOr<RtspResponse> describe = client.Describe(kStepTimeout);
    ASSERT_TRUE(describe.ok()) << listener << ": " << describe.status();
    EXPECT_EQ(describe->status_code, 200) << listener;
    EXPECT_EQ(describe->headers["content-type"], "application/sdp") << listener;
    EXPECT_NE(describe->body.find("m=video"), std::string::npos) << describe->body;
  }

  // A client of the taken port reaches the test's own socket, not the server.
  RtspClient intruder(absl::StrCat("rtsp://127.0.0.1:", taken.port(), "/cam"));
  ASSERT_TRUE(intruder.Connect(kStepTimeout).ok());
  EXPECT_TRUE(taken.Accepts(kStepTimeout));

  ASSERT_TRUE(server.IsRunning()) << server.output();
  absl::StatusOr<int> exit_code = server.Stop(SIGTERM);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

TEST(PortsTest, AllPortsTakenExitsWithCodeOne) {
  TakenPort a, b, c, d;
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  ServerProcess server;
  ASSERT_FALSE(server
                   .StartWithConfig(kConfig, {absl::StrCat("--rtsp_ports=", a.port(), ",", b.port(), ",",
                                                           c.port(), ",", d.port()),
                                              "--bind=127.0.0.1"})
                   .ok());
  absl::StatusOr<int> exit_code = server.WaitForExit(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 1) << server.output();
  for (int port : {a.port(), b.port(), c.port(), d.port()}) {
    EXPECT_FALSE(FindLogLine(server.output(), {"\"msg\":\"listener failed to bind; it stays down\"",
                                               absl::StrCat("\"port\":", port)})
                     .empty())
        << port << "\n"
        << server.output();
  }
}

}  // namespace
}  // namespace rtsptest::testing
