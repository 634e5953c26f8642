// Lifecycle: SIGTERM and SIGINT stop the server cleanly (exit 0, a "stopped"
// log line), and everything it logs on stdout is one JSON object per line
// with "ts", "level" and "msg".
#include <signal.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

using tools::RtspClient;
using tools::Transport;

constexpr absl::Duration kStepTimeout = absl::Seconds(10);

constexpr char kConfig[] = R"yaml(
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
streams:
  - {path: /cam, plugin: testpattern, parameters: {codec: h264, width: 320, height: 240, fps: 10, gop: 10}}
drain_timeout: 0s
)yaml";

void ExpectCleanStopOn(int signal, bool with_reader) {
  ServerProcess server;
  ASSERT_TRUE(server.StartWithConfig(kConfig).ok()) << server.output();
  RtspClient reader(server.url("a", "/cam"));
  if (with_reader) {
    ASSERT_TRUE(reader.Connect(kStepTimeout).ok());
    ASSERT_TRUE(reader.Describe(kStepTimeout).ok());
    ASSERT_TRUE(reader.SetupAll(Transport::kTcpInterleaved, kStepTimeout).ok());
    ASSERT_TRUE(reader.Play(kStepTimeout).ok());
  }

  absl::StatusOr<int> exit_code = server.Stop(signal, absl::Seconds(20));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server.output();
  EXPECT_EQ(*exit_code, 0) << server.output();

  const std::string output = server.output();
  ASSERT_TRUE(absl::EndsWith(output, "<eof>"));
  EXPECT_TRUE(absl::StrContains(output, "\"msg\":\"stopped\"")) << output;
  // Nothing but the JSON log: stderr stays empty, GStreamer's warnings go
  // into the log.
  EXPECT_EQ(server.error_output(), "");
  int lines = 0;
  for (absl::string_view line :
       absl::StrSplit(output.substr(0, output.size() - 5), '\n', absl::SkipEmpty())) {
    EXPECT_TRUE(IsJsonLogLine(line)) << line;
    ++lines;
  }
  EXPECT_GT(lines, 3);
}

TEST(LifecycleTest, SigtermWithAReaderConnectedExitsZeroAndLogsStopped) {
  ExpectCleanStopOn(SIGTERM, /*with_reader=*/true);
}

TEST(LifecycleTest, SigintExitsZeroAndLogsStopped) {
  ExpectCleanStopOn(SIGINT, /*with_reader=*/false);
}

// With no reader and drain_timeout 0 there is nothing to wait for: the
// process is gone soon after SIGTERM, and at once after its last log line,
// with and without the embedded HTTP gateway. (The bounds leave room for a
// loaded CI machine; a quiet one takes about 0.1 s and 10 ms.)
TEST(LifecycleTest, SigtermWithoutReadersExitsPromptly) {
  for (bool http : {false, true}) {
    ServerProcess server;
    std::vector<std::string> args;
    if (http) args.push_back("--http_port=0");
    ASSERT_TRUE(server.StartWithConfig(kConfig, args).ok()) << server.output();
    if (http) {
      ASSERT_TRUE(server.WaitForOutput("\"msg\":\"http gateway serving\"", kStepTimeout));
    }
    const absl::Time signalled = absl::Now();
    ASSERT_EQ(kill(server.pid(), SIGTERM), 0);
    ASSERT_TRUE(server.WaitForOutput("\"msg\":\"stopped\"", absl::Seconds(20))) << server.output();
    const absl::Time stopped = absl::Now();
    absl::StatusOr<int> exit_code = server.WaitForExit(absl::Seconds(20));
    const absl::Time exited = absl::Now();
    ASSERT_TRUE(exit_code.ok()) << exit_code.status();
    EXPECT_EQ(*exit_code, 0) << server.output();
    std::cout << (http ? "with --http_port: " : "")
              << "SIGTERM to \"stopped\": " << absl::FormatDuration(stopped - signalled)
              << ", \"stopped\" to exit: " << absl::FormatDuration(exited - stopped) << "\n";
    EXPECT_LT(exited - signalled, absl::Seconds(2)) << (http ? "with --http_port" : "");
    EXPECT_LT(exited - stopped, absl::Milliseconds(500)) << (http ? "with --http_port" : "");
  }
}

}  // namespace
}  // namespace rtsptest::testing
