// Ports: a listener whose port is already taken at start is logged and stays
// down while the others serve; when no listener can bind, the server exits 1.
// --bind=127.0.0.1 binds every listening socket of the process to loopback.
//
// The test itself holds the "taken" ports with listening sockets on
// 127.0.0.1, the address the server binds (--bind=127.0.0.1).
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/net/host_port.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/util/loopback.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

using tools::RtspClient;
using tools::RtspResponse;

constexpr absl::Duration kStepTimeout = absl::Seconds(10);

constexpr char kConfig[] = R"yaml(
streams:
  - path: /cam
    plugin: testpattern
    parameters: {codec: mjpeg, width: 320, height: 240, fps: 5, overlay: false}
drain_timeout: 0s
)yaml";

// The log line (JSON) that contains all of `parts`, or "".
std::string FindLogLine(const std::string& output, const std::vector<std::string>& parts) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    bool all = true;
    for (const std::string& part : parts) all &= line.find(part) != absl::string_view::npos;
    if (all) return std::string(line);
  }
  return "";
}

// The local addresses ("127.0.0.1:8554", "[::]:50051") of the TCP sockets
// in LISTEN state that process `pid` holds: its socket descriptors' inodes,
// looked up in the kernel's tables /proc/<pid>/net/tcp and tcp6.
std::vector<std::string> ListeningAddresses(pid_t pid) {
  std::set<std::string> inodes;
  const std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
  if (DIR* dir = opendir(fd_dir.c_str())) {
    while (dirent* entry = readdir(dir)) {
      char target[64] = {};
      std::string link = absl::StrCat(fd_dir, "/", entry->d_name);
      ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
      absl::string_view text(target, n > 0 ? static_cast<size_t>(n) : 0);
      if (absl::ConsumePrefix(&text, "socket:[") && absl::ConsumeSuffix(&text, "]")) {
        inodes.insert(std::string(text));
      }
    }
    closedir(dir);
  }
  std::vector<std::string> addresses;
  for (const char* table : {"tcp", "tcp6"}) {
    std::ifstream in(absl::StrCat("/proc/", pid, "/net/", table));
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (f.size() < 10 || f[3] != "0A" || inodes.count(std::string(f[9])) == 0) continue;
      std::vector<absl::string_view> host_port = absl::StrSplit(f[1], ':');
      // The address is printed as 32-bit words in host (little-endian) order.
      std::string bytes = absl::HexStringToBytes(host_port[0]);
      for (size_t word = 0; word + 4 <= bytes.size(); word += 4) {
        std::swap(bytes[word], bytes[word + 3]);
        std::swap(bytes[word + 1], bytes[word + 2]);
      }
      // An IPv6 socket bound to a v4-mapped address (gRPC binds that way)
      // accepts exactly what the IPv4 address would.
      if (absl::StartsWith(bytes, absl::string_view("\0\0\0\0\0\0\0\0\0\0\xff\xff", 12))) {
        bytes = bytes.substr(12);
      }
      char text[INET6_ADDRSTRLEN] = {};
      bool v6 = bytes.size() == 16;
      inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof(text));
      uint32_t port = 0;
      absl::SimpleHexAtoi(host_port[1], &port);
      addresses.push_back(common::JoinHostPort(text, static_cast<int>(port)));
    }
  }
  return addresses;
}

TEST(PortsTest, BindLoopbackBindsEveryListeningSocketToLoopback) {
  // The listeners carry no address, so --bind is the only one given.
  constexpr char kListenersWithoutAddress[] = R"yaml(
listeners:
  - {name: a, port: 0}
  - {name: b, port: 0}
drain_timeout: 0s
)yaml";
  ServerProcess server;
  ASSERT_TRUE(
      server.StartWithConfig(kListenersWithoutAddress, {"--bind=127.0.0.1", "--http_port=0"}).ok())
      << server.output();
  ASSERT_TRUE(server.WaitForOutput("\"msg\":\"http gateway serving\"", kStepTimeout))
      << server.output();
  const int http_port = server.http_port();
  ASSERT_NE(http_port, 0) << server.output();

  const std::vector<std::string> listening = ListeningAddresses(server.pid());
  const std::string all = absl::StrJoin(listening, ", ");
  // Every socket is on loopback, none on 0.0.0.0 or ::. (With port 0, gRPC
  // also opens a second listening socket on another port: one per poller.)
  for (const std::string& address : listening) {
    EXPECT_TRUE(absl::StartsWith(address, "127.0.0.1:")) << address << " in " << all;
  }
  // Among them: both RTSP ports, the gRPC port and the HTTP gateway.
  for (int port : {server.port("a"), server.port("b"), server.grpc_port(), http_port}) {
    EXPECT_NE(std::find(listening.begin(), listening.end(), absl::StrCat("127.0.0.1:", port)),
              listening.end())
        << port << " not in " << all;
  }

  absl::StatusOr<int> exit_code = server.Stop(SIGTERM);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

TEST(PortsTest, TakenPortLeavesTheOtherThreeServing) {
  HeldPort taken(HeldPort::Mode::kListening);
  ASSERT_TRUE(taken.ok());
  // The other three bind port 0: the kernel picks them, nothing can race.
  const std::vector<int> ports = {0, taken.port(), 0, 0};

  ServerProcess server;
  ASSERT_TRUE(
      server
          .StartWithConfig(kConfig, {absl::StrCat("--rtsp_ports=", absl::StrJoin(ports, ",")),
                                     "--bind=127.0.0.1"})
          .ok())
      << server.output();

  // The failure is logged as an error that names the listener and the port.
  const std::string error_line =
      FindLogLine(server.output(),
                  {"\"level\":\"error\"", "\"msg\":\"listener failed to bind; it stays down\""});
  ASSERT_FALSE(error_line.empty()) << server.output();
  EXPECT_NE(error_line.find(absl::StrCat("\"listener\":\"rtsp-", taken.port(), "\"")),
            std::string::npos)
      << error_line;
  EXPECT_NE(error_line.find(absl::StrCat("\"port\":", taken.port())), std::string::npos)
      << error_line;
  EXPECT_EQ(server.port(absl::StrCat("rtsp-", taken.port())), 0);

  for (int index : {0, 2, 3}) {
    const std::string listener = absl::StrCat("rtsp-ephemeral-", index);
    ASSERT_NE(server.port(listener), 0) << server.output();
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
  HeldPort a(HeldPort::Mode::kListening), b(HeldPort::Mode::kListening),
      c(HeldPort::Mode::kListening), d(HeldPort::Mode::kListening);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  ServerProcess server;
  ASSERT_FALSE(server
                   .StartWithConfig(kConfig, {absl::StrCat("--rtsp_ports=", a.port(), ",", b.port(),
                                                           ",", c.port(), ",", d.port()),
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

TEST(PortsTest, SecondServerOnATakenGrpcPortRefusesToStart) {
  // gRPC would share the port (SO_REUSEPORT) and split the health checks
  // between two servers; the second one must fail instead.
  ServerProcess first;
  ASSERT_TRUE(first.StartWithConfig(kConfig, {"--rtsp_ports=0,0,0,0", "--bind=127.0.0.1"}).ok())
      << first.output();
  const int grpc_port = first.grpc_port();
  ASSERT_NE(grpc_port, 0) << first.output();
  const std::string grpc = absl::StrCat("--grpc_port=", grpc_port);
  ServerProcess second;
  ASSERT_FALSE(
      second.StartWithConfig(kConfig, {"--rtsp_ports=0,0,0,0", "--bind=127.0.0.1", grpc}).ok());
  absl::StatusOr<int> exit_code = second.WaitForExit(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_NE(*exit_code, 0) << second.output();
  EXPECT_NE(second.output().find(absl::StrCat(":", grpc_port, " (port in use?)")),
            std::string::npos)
      << second.output();
  EXPECT_TRUE(first.IsRunning());
}

}  // namespace
}  // namespace rtsptest::testing
