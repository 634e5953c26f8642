// File-descriptor exhaustion of the real rtsp_test_server binary, seen from
// outside: with a low RLIMIT_NOFILE (set on the child with prlimit(2)), many
// idle TCP connections to its gRPC port use up its descriptors until gRPC's
// accept4() fails with EMFILE. gRPC 1.51 then stops accepting on that port
// for good (grpc/grpc#20418, #31080); after the test releases the
// connections, the port must answer a grpc.health.v1 Check again within 2 s,
// the process must still be alive, and the episode must not flood the log.
//
// Ports are ephemeral; ServerProcess learns them from the server's log.
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
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

TEST(FdExhaustionTest, GrpcPortAnswersAgainSoonAfterDescriptorsReturn) {
  ServerProcess server;
  ASSERT_TRUE(server.StartWithConfig(kConfig).ok()) << server.output();
  const int port = server.grpc_port();
  ASSERT_NE(port, 0) << server.output();
  ASSERT_TRUE(CheckAnswers(port, absl::Seconds(5))) << server.output();

  const int open_at_start = OpenDescriptors(server.pid());
  ASSERT_GT(open_at_start, 0);
  ASSERT_LT(open_at_start, static_cast<int>(kChildFileLimit) - 32)
      << "the server needs more descriptors than the test's limit";
  rlimit limit{};
  ASSERT_EQ(prlimit(server.pid(), RLIMIT_NOFILE, nullptr, &limit), 0) << strerror(errno);
  limit.rlim_cur = kChildFileLimit;
  ASSERT_EQ(prlimit(server.pid(), RLIMIT_NOFILE, &limit, nullptr), 0) << strerror(errno);

  // Idle connections: the server accepts each one and then waits for the
  // HTTP/2 preface, holding a descriptor, until the test closes it.
  const size_t output_before = server.output().size();
  const absl::Time exhausted = absl::Now();
  std::vector<int> connections;
  for (int i = 0; i < kConnections; ++i) {
    int fd = ConnectLoopback(port);
    if (fd < 0) break;  // the backlog is full: enough
    connections.push_back(fd);
  }
  ASSERT_GT(connections.size(), kChildFileLimit);
  ASSERT_TRUE(server.WaitForOutput(kAcceptFailed, absl::Seconds(10)))
      << "no accept failure; open descriptors " << OpenDescriptors(server.pid()) << "\n"
      << server.output();
  // Exhaustion goes on for a while, as it would in production: the health
  // probes, the watchdog and the RTSP side all meet EMFILE meanwhile.
  absl::SleepFor(absl::Seconds(3));
  for (int fd : connections) close(fd);
  const absl::Time released = absl::Now();

  absl::Duration answered_after = absl::InfiniteDuration();
  while (absl::Now() - released < absl::Seconds(5)) {
    if (CheckAnswers(port, absl::Milliseconds(500))) {
      answered_after = absl::Now() - released;
      break;
    }
  }
  const std::string episode = server.output().substr(output_before);
  const int lines = CountLines(episode);
  std::cout << "[figure] gRPC port answering " << absl::FormatDuration(answered_after)
            << " after descriptors returned; " << lines << " log lines over the "
            << absl::FormatDuration(released - exhausted) << " of exhaustion and the recovery\n";
  EXPECT_TRUE(server.IsRunning()) << server.output();
  EXPECT_LE(answered_after, absl::Seconds(2)) << episode;
  EXPECT_LT(lines, 50) << episode;
  EXPECT_EQ(Occurrences(episode, kRebuilt), 1) << episode;
  std::cout << "[episode]\n" << episode;

  absl::StatusOr<int> exit_code = server.Stop(SIGTERM, absl::Seconds(15));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server.output();
  EXPECT_EQ(*exit_code, 0);
}

}  // namespace
}  // namespace rtsptest::testing
