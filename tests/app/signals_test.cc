// The signals of the real rtsp_test_server binary, seen from outside:
// SIGHUP, SIGUSR1, SIGUSR2 and SIGALRM leave it running and SERVING and are
// logged once each with the reason, also when they arrive during start-up;
// SIGQUIT drains like SIGTERM (health NOT_SERVING while an RTSP connection is
// still open, then exit 0).
//
// Ports are ephemeral; ServerProcess learns them from the server's log.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/app/health_client.h"
#include "tests/e2e/server_process.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

constexpr absl::Duration kStep = absl::Seconds(5);

constexpr char kConfig[] = R"yaml(
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
streams:
  - path: /cam
    plugin: testpattern
    parameters: {width: 160, height: 120, fps: 5, overlay: false}
health: {probe_interval: 200ms, probe_timeout: 300ms}
control: {bind_address: 127.0.0.1, port: 0}
drain_timeout: 3s
)yaml";

class SignalsTest : public ::testing::Test {
 protected:
  // Starts the server and waits (on a Watch) until "" is SERVING.
  void StartServing() {
    ASSERT_TRUE(server_.StartWithConfig(kConfig).ok()) << server_.output();
    ASSERT_NE(server_.grpc_port(), 0) << server_.output();
    client_ = std::make_unique<HealthClient>(server_.grpc_port());
    HealthWatch watch(*client_, "");
    ASSERT_TRUE(watch.NextWith(kServing, kStep).has_value()) << server_.output();
  }

  // Number of occurrences of `text` in the server's output so far.
  int Occurrences(const std::string& text) const {
    const std::string output = server_.output();
    int count = 0;
    for (size_t at = output.find(text); at != std::string::npos; at = output.find(text, at + 1)) {
      ++count;
    }
    return count;
  }

  ServerProcess server_;
  std::unique_ptr<HealthClient> client_;
};

struct IgnoredSignalCase {
  int signal;
  const char* log_text;
};

TEST_F(SignalsTest, HupUsr1Usr2AndAlrmAreLoggedOnceEachAndLeaveTheServerServing) {
  StartServing();
  const IgnoredSignalCase cases[] = {
      {SIGHUP, "signal SIGHUP ignored: configuration reload is not supported"},
      {SIGUSR1, "signal SIGUSR1 ignored: "},
      {SIGUSR2, "signal SIGUSR2 ignored: "},
      {SIGALRM, "signal SIGALRM ignored: "},
  };
  for (const IgnoredSignalCase& c : cases) {
    ASSERT_EQ(kill(server_.pid(), c.signal), 0);
    // The log line is the event that the server has taken the signal.
    ASSERT_TRUE(server_.WaitForOutput(c.log_text, kStep)) << c.log_text << "\n" << server_.output();
    EXPECT_TRUE(server_.IsRunning()) << c.log_text;
    EXPECT_EQ(StatusName(client_->CheckStatus("")), "SERVING") << c.log_text;
  }
  // Again: no second log line per kind.
  for (const IgnoredSignalCase& c : cases) ASSERT_EQ(kill(server_.pid(), c.signal), 0);
  // A health Check after the signals were sent is answered by a live server;
  // SIGTERM after them is taken in order, so the exit proves they were seen.
  EXPECT_EQ(StatusName(client_->CheckStatus("")), "SERVING");
  absl::StatusOr<int> exit_code = server_.Stop(SIGTERM, absl::Seconds(15));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server_.output();
  EXPECT_EQ(*exit_code, 0);
  for (const IgnoredSignalCase& c : cases) {
    EXPECT_EQ(Occurrences(c.log_text), 1) << c.log_text << "\n" << server_.output();
  }
  EXPECT_EQ(Occurrences("\"msg\":\"draining\""), 1) << server_.output();
}

TEST_F(SignalsTest, SigquitDrainsLikeSigtermAndExitsZero) {
  StartServing();
  // An open RTSP connection keeps the drain going until the drain timeout.
  tools::RtspClient reader(server_.url("a", "/cam"));
  ASSERT_TRUE(reader.Connect(kStep).ok());
  ASSERT_TRUE(reader.Describe(kStep).ok());

  HealthWatch watch(*client_, "");
  ASSERT_TRUE(watch.NextWith(kServing, kStep).has_value()) << server_.output();
  const absl::Time killed = absl::Now();
  ASSERT_EQ(kill(server_.pid(), SIGQUIT), 0);
  ASSERT_TRUE(watch.NextWith(kNotServing, kStep).has_value()) << server_.output();
  ASSERT_TRUE(server_.WaitForOutput("\"msg\":\"draining\"", kStep)) << server_.output();
  EXPECT_NE(server_.output().find("\"signal\":\"SIGQUIT\""), std::string::npos) << server_.output();
  EXPECT_TRUE(server_.IsRunning()) << "exited before draining:\n" << server_.output();

  absl::StatusOr<int> exit_code = server_.WaitForExit(absl::Seconds(3 + 5));
  const absl::Duration exited = absl::Now() - killed;
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server_.output();
  EXPECT_EQ(*exit_code, 0);  // not a core dump (-SIGQUIT)
  EXPECT_GE(exited, absl::Milliseconds(2900)) << "the drain timeout was cut short";
}

// The pid of the process whose command line has `argument`, or -1. Used for
// a server that Start() has not returned from yet.
pid_t FindProcessWithArgument(const std::string& argument) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    const std::string cmdline{std::istreambuf_iterator<char>(in), {}};
    if (cmdline.find(argument) != std::string::npos) return static_cast<pid_t>(std::stoi(name));
  }
  return -1;
}

TEST_F(SignalsTest, IgnoredSignalsDuringStartUpDoNotKillTheServer) {
  // The config is a FIFO: the server blocks reading it, which is start-up
  // before plugins, GStreamer and the listeners. Opening it for writing
  // returns once the server has opened it: that is the event to signal on.
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string fifo = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/startup_config.yaml");
  std::filesystem::remove(fifo);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  const std::string config_flag = absl::StrCat("--config=", fifo);

  std::string writer_error;
  std::thread writer([&] {
    const int fd = open(fifo.c_str(), O_WRONLY);  // blocks until the server reads
    if (fd < 0) {
      writer_error = absl::StrCat("open: ", std::strerror(errno));
      return;
    }
    const pid_t pid = FindProcessWithArgument(config_flag);
    if (pid < 0) writer_error = "server process not found in /proc";
    if (pid > 0) {
      kill(pid, SIGHUP);
      kill(pid, SIGUSR1);
    }
    const std::string config = kConfig;
    if (write(fd, config.data(), config.size()) != static_cast<ssize_t>(config.size())) {
      writer_error = absl::StrCat("write: ", std::strerror(errno));
    }
    close(fd);
  });
  const absl::Status started = server_.Start({config_flag});
  writer.join();
  ASSERT_EQ(writer_error, "");
  ASSERT_TRUE(started.ok()) << started << "\n" << server_.output();
  ASSERT_TRUE(
      server_.WaitForOutput("signal SIGHUP ignored: configuration reload is not supported", kStep))
      << server_.output();
  ASSERT_TRUE(server_.WaitForOutput("signal SIGUSR1 ignored: ", kStep)) << server_.output();
  EXPECT_TRUE(server_.IsRunning());
  HealthClient client(server_.grpc_port());
  HealthWatch watch(client, "");
  EXPECT_TRUE(watch.NextWith(kServing, kStep).has_value()) << server_.output();
}

}  // namespace
}  // namespace rtsptest::testing
