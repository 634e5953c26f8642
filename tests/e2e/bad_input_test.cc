// Bad input: a bad config, flag or environment variable stops the server with
// exit code 2 and a message on stderr that names the field and the value; a
// bad stream (unknown plugin, bad parameter, broken pipeline) is logged with
// its path and the server goes on serving the good streams. Also covers
// --check_config and --list_plugins.
#include <signal.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

using tools::RtspClient;
using tools::RtspResponse;
using tools::Transport;

constexpr absl::Duration kExitTimeout = absl::Seconds(30);
constexpr absl::Duration kStepTimeout = absl::Seconds(10);
constexpr int kConfigErrorExitCode = 2;

// Runs the server with `args` (and `env`), expects it to exit by itself, and
// returns its exit code; `server` keeps the output.
int RunToExit(ServerProcess& server, std::vector<std::string> args,
              std::vector<std::pair<std::string, std::string>> env = {}) {
  for (const auto& [name, value] : env) server.SetEnv(name, value);
  EXPECT_FALSE(server.Start(std::move(args)).ok()) << "the server started:\n" << server.output();
  absl::StatusOr<int> exit_code = server.WaitForExit(kExitTimeout);
  EXPECT_TRUE(exit_code.ok()) << exit_code.status();
  return exit_code.ok() ? *exit_code : -1;
}

// One bad config file and what its error must say.
struct BadConfig {
  const char* name;       // test name and file name stem
  const char* extension;  // "yaml" or "json"
  const char* content;
  const char* message;  // expected on stderr, after "<file>:<line>:<col>: "
};

const BadConfig kBadConfigs[] = {
    {"UnknownField", "yaml", "streams:\n  - {path: /cam, plgin: testpattern}\n",
     "streams[0].plgin: unknown field"},
    {"PortOutOfRange", "yaml", "listeners:\n  - {name: a, bind_address: 127.0.0.1, port: 70000}\n",
     "listeners[0].port: 70000 is out of range (0..65535)"},
    {"DuplicateStreamPath", "yaml",
     "streams:\n  - {path: /cam, plugin: testpattern}\n  - {path: /cam, plugin: testpattern}\n",
     "streams[1].path: duplicate path '/cam'"},
    {"StreamNamesMissingListener", "yaml",
     "listeners:\n  - {name: a, bind_address: 127.0.0.1, port: 0}\n"
     "streams:\n  - {path: /cam, plugin: testpattern, listeners: [nope]}\n",
     "streams[0].listeners[0]: no listener named 'nope'"},
    {"InvalidYamlSyntax", "yaml", "listeners:\n  - {name: a, port: 0\nstreams: [\n",
     "YAML syntax error"},
    {"JsonWithBadValue", "json",
     R"({"listeners": [{"name": "a", "bindAddress": "127.0.0.1", "port": "eighty"}]})",
     "listeners[0].port: expected an integer, got 'eighty'"},
};

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigTest, ExitsTwoNamingTheFieldAndValueOnStderr) {
  const BadConfig& bad = GetParam();
  const std::string file_name = absl::StrCat("bad_", bad.name, ".", bad.extension);
  const std::string path = WriteTempFile(file_name, bad.content);
  ServerProcess server;
  EXPECT_EQ(RunToExit(server, {absl::StrCat("--config=", path)}), kConfigErrorExitCode)
      << server.output();
  const std::string stderr_text = server.error_output();
  EXPECT_NE(stderr_text.find("configuration error"), std::string::npos) << stderr_text;
  EXPECT_NE(stderr_text.find(file_name), std::string::npos) << stderr_text;
  EXPECT_NE(stderr_text.find(bad.message), std::string::npos) << stderr_text;
}

INSTANTIATE_TEST_SUITE_P(Files, BadConfigTest, ::testing::ValuesIn(kBadConfigs),
                         [](const ::testing::TestParamInfo<BadConfig>& info) {
                           return info.param.name;
                         });

TEST(BadConfigTest, MissingConfigFileExitsTwo) {
  const std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/no_such_config.yaml");
  ServerProcess server;
  EXPECT_EQ(RunToExit(server, {absl::StrCat("--config=", path)}), kConfigErrorExitCode);
  EXPECT_NE(
      server.error_output().find(absl::StrCat("config file ", path, ": No such file or directory")),
      std::string::npos)
      << server.error_output();
}

TEST(BadFlagTest, NonNumericRtspPortsExitsTwo) {
  ServerProcess server;
  EXPECT_EQ(RunToExit(server, {"--rtsp_ports=abc"}), kConfigErrorExitCode);
  EXPECT_NE(server.error_output().find("--rtsp_ports='abc': item 1: 'abc' is not a port number"),
            std::string::npos)
      << server.error_output();
}

TEST(BadEnvironmentTest, NonNumericRtspPortsVariableExitsTwo) {
  ServerProcess server;
  EXPECT_EQ(RunToExit(server, {}, {{"RTSP_TEST_RTSP_PORTS", "x"}}), kConfigErrorExitCode);
  EXPECT_NE(
      server.error_output().find("RTSP_TEST_RTSP_PORTS='x': item 1: 'x' is not a port number"),
      std::string::npos)
      << server.error_output();
}

// A value that is valid alone but wrong in the final config (k of the
// k-of-n rule above the number of listeners) is reported with where it came
// from: the flag, the environment variable, or the file position. Line 4,
// column 33 of this file is the 1.
constexpr char kTwoListenersK1[] = R"yaml(listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
  - {name: b, bind_address: 127.0.0.1, port: 0}
health: {min_healthy_listeners: 1}
)yaml";
constexpr char kKTooLarge[] = "health.min_healthy_listeners: 9 is more than the 2 listeners";

TEST(ValueSourceTest, KFromTheFileNamesTheFilePosition) {
  const std::string path =
      WriteTempFile("k_file.yaml", absl::StrReplaceAll(kTwoListenersK1, {{": 1}", ": 9}"}}));
  ServerProcess server;
  EXPECT_EQ(RunToExit(server, {absl::StrCat("--config=", path)}), kConfigErrorExitCode);
  EXPECT_NE(server.error_output().find(absl::StrCat(path, ":4:33: ", kKTooLarge)),
            std::string::npos)
      << server.error_output();
}

TEST(ValueSourceTest, KFromTheEnvironmentNamesTheVariable) {
  const std::string path = WriteTempFile("k_env.yaml", kTwoListenersK1);
  ServerProcess server;
  EXPECT_EQ(RunToExit(server, {absl::StrCat("--config=", path)}, {{"RTSP_TEST_MIN_HEALTHY", "9"}}),
            kConfigErrorExitCode);
  EXPECT_NE(server.error_output().find(absl::StrCat("RTSP_TEST_MIN_HEALTHY=9: ", kKTooLarge)),
            std::string::npos)
      << server.error_output();
  EXPECT_EQ(server.error_output().find(path), std::string::npos) << server.error_output();
}

TEST(ValueSourceTest, KFromAFlagNamesTheFlagEvenWithTheVariableSet) {
  const std::string path = WriteTempFile("k_flag.yaml", kTwoListenersK1);
  ServerProcess server;
  EXPECT_EQ(RunToExit(server, {absl::StrCat("--config=", path), "--min_healthy_listeners=9"},
                      {{"RTSP_TEST_MIN_HEALTHY", "2"}}),
            kConfigErrorExitCode);
  EXPECT_NE(server.error_output().find(absl::StrCat("--min_healthy_listeners=9: ", kKTooLarge)),
            std::string::npos)
      << server.error_output();
  EXPECT_EQ(server.error_output().find(path), std::string::npos) << server.error_output();
}

// Four bad streams and one good one in the same config.
constexpr char kBadStreamsConfig[] = R"yaml(
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
streams:
  - {path: /unknown_plugin, plugin: nosuchplugin}
  - {path: /zero_fps, plugin: testpattern, parameters: {fps: 0}}
  - {path: /text_width, plugin: testpattern, parameters: {width: abc}}
  - path: /bad_pipeline
    plugin: pipeline
    parameters: {description: "videotestsrc is-live=true ! nosuchelement ! rtph264pay name=pay0"}
  - {path: /good, plugin: testpattern, parameters: {codec: mjpeg, width: 320, height: 240, fps: 10, overlay: false}}
drain_timeout: 0s
)yaml";

// The "stream skipped" error line for `path`, or "".
std::string SkippedLine(const std::string& output, const std::string& path) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (line.find("\"msg\":\"stream skipped\"") != absl::string_view::npos &&
        line.find(absl::StrCat("\"stream\":\"", path, "\"")) != absl::string_view::npos) {
      return std::string(line);
    }
  }
  return "";
}

class BadStreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->StartWithConfig(kBadStreamsConfig).ok()) << server_->output();
  }
  static void TearDownTestSuite() {
    EXPECT_TRUE(server_->IsRunning()) << server_->output();
    absl::StatusOr<int> exit_code = server_->Stop(SIGTERM);
    EXPECT_TRUE(exit_code.ok() && *exit_code == 0) << server_->output();
    delete server_;
    server_ = nullptr;
  }
  void ExpectSkipped(const std::string& path, const std::string& code, const std::string& error) {
    const std::string line = SkippedLine(server_->output(), path);
    ASSERT_FALSE(line.empty()) << "no error logged for " << path << "\n" << server_->output();
    EXPECT_NE(line.find("\"level\":\"error\""), std::string::npos) << line;
    EXPECT_NE(line.find(absl::StrCat("\"code\":\"", code, "\"")), std::string::npos) << line;
    EXPECT_NE(line.find(absl::StrCat("\"error\":\"stream ", path, ": ", error)), std::string::npos)
        << line;
    // And the stream is not served.
    RtspClient client(server_->url("a", path));
    ASSERT_TRUE(client.Connect(kStepTimeout).ok());
    absl::StatusOr<RtspResponse> describe = client.Describe(kStepTimeout);
    ASSERT_FALSE(describe.ok());
    EXPECT_NE(describe.status().message().find("404"), absl::string_view::npos)
        << describe.status();
  }

  static ServerProcess* server_;
};

ServerProcess* BadStreamTest::server_ = nullptr;

TEST_F(BadStreamTest, UnknownPluginIsLoggedWithPathAndPlugin) {
  ExpectSkipped("/unknown_plugin", "NOT_FOUND",
                "plugin nosuchplugin: libnosuchplugin.so not found in ");
}

TEST_F(BadStreamTest, OutOfRangeParameterIsLoggedWithPathNameAndValue) {
  ExpectSkipped("/zero_fps", "INVALID_ARGUMENT",
                "plugin testpattern: parameter fps=0: must be in 1..120");
}

TEST_F(BadStreamTest, WrongParameterTypeIsLoggedWithPathNameAndValue) {
  ExpectSkipped("/text_width", "INVALID_ARGUMENT",
                "plugin testpattern: parameter width=abc: not an integer");
}

TEST_F(BadStreamTest, BadPipelineDescriptionIsLoggedWithPathAndElement) {
  ExpectSkipped(
      "/bad_pipeline", "INVALID_ARGUMENT",
      "plugin pipeline: create failed: pipeline description: no element \\\"nosuchelement\\\"");
}

TEST_F(BadStreamTest, GoodStreamInTheSameConfigStillServesMedia) {
  EXPECT_NE(server_->output().find("\"msg\":\"stream mounted\",\"stream\":\"/good\""),
            std::string::npos)
      << server_->output();
  RtspClient client(server_->url("a", "/good"));
  ASSERT_TRUE(client.Connect(kStepTimeout).ok());
  absl::StatusOr<RtspResponse> describe = client.Describe(kStepTimeout);
  ASSERT_TRUE(describe.ok()) << describe.status();
  EXPECT_EQ(describe->status_code, 200);
  ASSERT_TRUE(client.SetupAll(Transport::kTcpInterleaved, kStepTimeout).ok());
  ASSERT_TRUE(client.Play(kStepTimeout).ok());
  // Await media: read until packets arrive or the step deadline passes.
  int64_t packets = 0;
  const absl::Time deadline = absl::Now() + kStepTimeout;
  while (packets == 0 && absl::Now() < deadline) {
    absl::StatusOr<int64_t> read = client.ReadMedia(absl::Milliseconds(500));
    ASSERT_TRUE(read.ok()) << read.status();
    packets += *read;
  }
  EXPECT_GT(packets, 0);
  client.Close();
}

TEST(CheckConfigTest, DefaultConfigIsValid) {
  ServerProcess server;
  EXPECT_EQ(RunToExit(server, {absl::StrCat("--config=", RunfilePath("config/default.yaml")),
                               "--check_config"}),
            0)
      << server.output();
  EXPECT_NE(server.output().find("config OK: 4 listeners, 5 streams"), std::string::npos)
      << server.output();
}

TEST(CheckConfigTest, BadParameterExitsTwoNamingStreamAndParameter) {
  const std::string path = WriteTempFile("check_bad_parameter.yaml", R"yaml(
streams:
  - {path: /good, plugin: testpattern}
  - {path: /zero_fps, plugin: testpattern, parameters: {fps: 0}}
)yaml");
  ServerProcess server;
  EXPECT_EQ(RunToExit(server, {absl::StrCat("--config=", path), "--check_config"}),
            kConfigErrorExitCode)
      << server.output();
  EXPECT_NE(server.error_output().find("/zero_fps"), std::string::npos) << server.error_output();
  EXPECT_NE(server.error_output().find("parameter fps=0: must be in 1..120"), std::string::npos)
      << server.error_output();
  EXPECT_EQ(server.error_output().find("/good"), std::string::npos) << server.error_output();
}

// Fails today: main.cc CheckStreams() prefixes "stream <path>: " to a status
// whose message already starts with it ("stream /zero_fps: stream /zero_fps:
// plugin testpattern: ..."). Enable once app/main.cc is fixed.
TEST(CheckConfigTest, NamesTheStreamOnce) {
  const std::string path = WriteTempFile("check_prefix.yaml", R"yaml(
streams:
  - {path: /zero_fps, plugin: testpattern, parameters: {fps: 0}}
)yaml");
  ServerProcess server;
  EXPECT_EQ(RunToExit(server, {absl::StrCat("--config=", path), "--check_config"}),
            kConfigErrorExitCode);
  EXPECT_EQ(server.error_output(),
            "stream /zero_fps: plugin testpattern: parameter fps=0: must be in 1..120\n");
}

TEST(ListPluginsTest, ListsTheThreeBuiltInPlugins) {
  ServerProcess server;
  EXPECT_EQ(RunToExit(server, {"--list_plugins"}), 0) << server.output();
  const std::string output = "\n" + server.output();  // every plugin starts a line
  for (const char* name : {"testpattern", "file", "pipeline"}) {
    EXPECT_NE(output.find(absl::StrCat("\n", name, " ")), std::string::npos) << name << "\n"
                                                                             << output;
  }
  EXPECT_EQ(output.find("NOT LOADABLE"), std::string::npos) << output;
}

}  // namespace
}  // namespace rtsptest::testing
