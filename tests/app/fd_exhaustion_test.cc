// File-descriptor exhaustion of the real rtsp_test_server binary, seen from
// outside: with a low RLIMIT_NOFILE (set on the child with prlimit(2)), many
// idle TCP connections to its gRPC port use up its descriptors until gRPC's
// accept4() fails with EMFILE. gRPC 1.51 then stops accepting on that port
// for good (grpc/grpc#20418, #31080); after the test releases the
// connections, the port must answer a grpc.health.v1 Check again within 2 s,
// the process must still be alive, and the episode must not flood the log.
// With the embedded HTTP gateway, /health says 200 again too.
//
// Ports are ephemeral; ServerProcess learns them from the server's log.
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/util/loopback.h"

namespace rtsptest::testing {
namespace {

constexpr char kConfig[] = R"yaml(
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
health: {probe_interval: 200ms, probe_timeout: 300ms}
control: {bind_address: 127.0.0.1, port: 0}
)yaml";

// The child's soft RLIMIT_NOFILE during the test.
constexpr rlim_t kChildFileLimit = 256;
// More connections than the child can accept.
constexpr int kConnections = 400;
// What gRPC logs when accept4() fails on its listener.
constexpr char kAcceptFailed[] = "Failed accept4";
// What the server logs once per recovery of the gRPC port.
constexpr char kRebuilt[] = "rebuilt the gRPC server on the same port";

// One grpc.health.v1 Check of "" over a new connection of its own: a channel
// with a private subchannel pool never reuses a connection another channel
// of this process opened before the port stopped accepting.
bool CheckAnswers(int port, absl::Duration timeout) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials(), args);
  std::unique_ptr<grpc::health::v1::Health::Stub> stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  return stub->Check(&context, request, &response).ok();
}

// Descriptors `pid` has open.
int OpenDescriptors(pid_t pid) {
  DIR* dir = opendir(absl::StrCat("/proc/", pid, "/fd").c_str());
  if (dir == nullptr) return -1;
  int count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

int CountLines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

int Occurrences(const std::string& text, const std::string& part) {
  int count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

// The HTTP status of GET `path` on 127.0.0.1:`port` (HTTP/1.0, one
// connection of its own), 0 when there is no answer within 2 s.
int HttpStatus(int port, const std::string& path) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return 0;
  timeval timeout{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  int status = 0;
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
      static_cast<ssize_t>(request.size())) {
    char buffer[64] = {};
    ssize_t n = recv(fd, buffer, sizeof(buffer) - 1, 0);
    // "HTTP/1.x NNN ..."
    if (n >= 12) status = std::atoi(buffer + 9);
  }
  close(fd);
  return status;
}

// Runs the server (with `args`), exhausts its descriptors with idle
// connections to the gRPC port for 3 s, releases them, and measures.
class FdExhaustionTest : public ::testing::Test {
 protected:
  void StartAndExhaust(std::vector<std::string> args) {
    ASSERT_TRUE(server_.StartWithConfig(kConfig, std::move(args)).ok()) << server_.output();
    port_ = server_.grpc_port();
    ASSERT_NE(port_, 0) << server_.output();
    ASSERT_TRUE(CheckAnswers(port_, absl::Seconds(5))) << server_.output();

    const int open_at_start = OpenDescriptors(server_.pid());
    ASSERT_GT(open_at_start, 0);
    ASSERT_LT(open_at_start, static_cast<int>(kChildFileLimit) - 32)
        << "the server needs more descriptors than the test's limit";
    rlimit limit{};
    ASSERT_EQ(prlimit(server_.pid(), RLIMIT_NOFILE, nullptr, &limit), 0) << strerror(errno);
    limit.rlim_cur = kChildFileLimit;
    ASSERT_EQ(prlimit(server_.pid(), RLIMIT_NOFILE, &limit, nullptr), 0) << strerror(errno);

    // Idle connections: the server accepts each one and then waits for the
    // HTTP/2 preface, holding a descriptor, until the test closes it.
    output_before_ = server_.output().size();
    exhausted_ = absl::Now();
    std::vector<int> connections;
    for (int i = 0; i < kConnections; ++i) {
      int fd = ConnectLoopback(port_);
      if (fd < 0) break;  // the backlog is full: enough
      connections.push_back(fd);
    }
    const bool failed = server_.WaitForOutput(kAcceptFailed, absl::Seconds(10));
    if (failed) {
      // Exhaustion goes on for a while, as it would in production: the
      // health probes, the watchdog and the RTSP side all meet EMFILE.
      absl::SleepFor(absl::Seconds(3));
    }
    for (int fd : connections) close(fd);
    released_ = absl::Now();
    ASSERT_GT(connections.size(), kChildFileLimit);
    ASSERT_TRUE(failed) << "no accept failure; open descriptors " << OpenDescriptors(server_.pid())
                        << "\n"
                        << server_.output();
  }

  // Time from the release until a Check over a new connection answers;
  // infinite if none does within 5 s.
  absl::Duration GrpcAnsweringAfter() {
    while (absl::Now() - released_ < absl::Seconds(5)) {
      if (CheckAnswers(port_, absl::Milliseconds(500))) return absl::Now() - released_;
    }
    return absl::InfiniteDuration();
  }

  // What the server printed since the exhaustion began.
  std::string Episode() const { return server_.output().substr(output_before_); }

  void StopCleanly() {
    absl::StatusOr<int> exit_code = server_.Stop(SIGTERM, absl::Seconds(15));
    ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server_.output();
    EXPECT_EQ(*exit_code, 0);
  }

  ServerProcess server_;
  int port_ = 0;
  size_t output_before_ = 0;
  absl::Time exhausted_;
  absl::Time released_;
};

TEST_F(FdExhaustionTest, GrpcPortAnswersAgainSoonAfterDescriptorsReturn) {
  ASSERT_NO_FATAL_FAILURE(StartAndExhaust({}));
  const absl::Duration answered_after = GrpcAnsweringAfter();
  const std::string episode = Episode();
  const int lines = CountLines(episode);
  std::cout << "[figure] gRPC port answering " << absl::FormatDuration(answered_after)
            << " after descriptors returned; " << lines << " log lines over the "
            << absl::FormatDuration(released_ - exhausted_) << " of exhaustion and the recovery\n";
  EXPECT_TRUE(server_.IsRunning()) << server_.output();
  EXPECT_LE(answered_after, absl::Seconds(2)) << episode;
  EXPECT_LT(lines, 50) << episode;
  EXPECT_EQ(Occurrences(episode, kRebuilt), 1) << episode;
  std::cout << "[episode]\n" << episode;
  StopCleanly();
}

// The embedded gateway follows the process over its own gRPC connection,
// which the rebuild closes: it must reconnect and say 200 again.
TEST_F(FdExhaustionTest, EmbeddedGatewayReportsHealthyAgainAfterTheRebuild) {
  ASSERT_NO_FATAL_FAILURE(StartAndExhaust({"--http_port=0"}));
  ASSERT_NE(server_.http_port(), 0) << server_.output();
  const absl::Duration answered_after = GrpcAnsweringAfter();
  absl::Duration healthy_after = absl::InfiniteDuration();
  int status = 0;
  while (absl::Now() - released_ < absl::Seconds(10)) {
    status = HttpStatus(server_.http_port(), "/health");
    if (status == 200) {
      healthy_after = absl::Now() - released_;
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));  // poll interval
  }
  const std::string episode = Episode();
  std::cout << "[figure] with the gateway: gRPC answering " << absl::FormatDuration(answered_after)
            << ", /health 200 " << absl::FormatDuration(healthy_after)
            << " after descriptors returned; " << CountLines(episode) << " log lines\n";
  EXPECT_LE(answered_after, absl::Seconds(2)) << episode;
  EXPECT_EQ(status, 200) << episode;
  EXPECT_LT(CountLines(episode), 50) << episode;
  std::cout << "[episode]\n" << episode;
  StopCleanly();
}

}  // namespace
}  // namespace rtsptest::testing
