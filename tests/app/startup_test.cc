// Start-up of the real rtsp_test_server binary with streams that used to
// hang or crash it (test plugins of //plugins/testing and sources that send
// nothing):
//   - two plugins whose create blocks: --check_config exits 2 within the
//     create bound (10 s, once: the streams are checked at once) naming
//     plugin, stream and bound; a started server keeps those streams failed
//     and serves the others;
//   - a descriptor pointer to unmapped memory: reported, never SIGSEGV;
//   - three streams whose source sends nothing: built at once, so start-up
//     takes the 10 s start wait, not 20 s per stream, and they are not
//     serving while the good stream is;
//   - a bad stream parameter: --check_config and a started server report
//     the same error; the server keeps the stream failed (ListStreams,
//     GetHealthReport) with `stream:<path>` NOT_SERVING;
//   - SIGTERM during a start that waits for such streams, and during a
//     --check_config that waits for a blocked create, ends the process
//     promptly.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "rtsptest/control/v1/control.grpc.pb.h"
#include "tests/app/health_client.h"
#include "tests/e2e/server_process.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

namespace v1 = ::rtsptest::control::v1;

constexpr absl::Duration kStep = absl::Seconds(10);
// The plugin host's bound on create (core/plugin_host/plugin.h).
constexpr absl::Duration kCreateBound = absl::Seconds(10);
// The server's bound on waiting for the streams (core/server/server.h).
constexpr absl::Duration kStartWait = absl::Seconds(10);
// Scheduling slack on a loaded 2-core machine.
constexpr absl::Duration kMargin = absl::Seconds(8);
// gst-rtsp-server gives up on a source that sends nothing after this.
constexpr absl::Duration kSilentSourceGivesUp = absl::Seconds(20);

constexpr char kSilent[] =
    "appsrc is-live=true format=time caps=video/x-h264,stream-format=byte-stream,alignment=au "
    "! rtph264pay name=pay0";

// Three streams whose source never sends a buffer, as YAML list items.
std::string SilentStreams() {
  std::string yaml;
  for (int i = 1; i <= 3; ++i) {
    absl::StrAppend(&yaml, "  - {path: /silent", i,
                    ", plugin: pipeline, parameters: {description: \"", kSilent, "\"}}\n");
  }
  return yaml;
}

std::string Config() {
  return absl::StrCat(R"yaml(
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
control: {bind_address: 127.0.0.1, port: 0}
drain_timeout: 0s
plugin_dirs: [")yaml",
                      RunfilePath("plugins"), "\", \"", RunfilePath("plugins/testing"), R"yaml("]
streams:
)yaml",
                      SilentStreams(), R"yaml(  - {path: /hang, plugin: hang}
  - {path: /hang2, plugin: hang_too}
  - {path: /wild, plugin: wild_descriptor}
  - {path: /bad, plugin: testpattern, parameters: {fps: 0}}
  - path: /good
    plugin: testpattern
    parameters: {width: 160, height: 120, fps: 5, overlay: false}
)yaml");
}

// --check_config's error lines by stream path ("stream <path>: ...").
std::map<std::string, std::string> CheckConfigErrors(const std::string& errors) {
  std::map<std::string, std::string> by_path;
  for (absl::string_view line : absl::StrSplit(errors, '\n')) {
    if (!absl::ConsumePrefix(&line, "stream ")) continue;
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    by_path[std::string(line.substr(0, colon))] = absl::StrCat("stream ", line);
  }
  return by_path;
}

std::unique_ptr<v1::ControlService::Stub> ControlStub(int grpc_port) {
  return v1::ControlService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                         grpc::InsecureChannelCredentials()));
}

// Every stream's report, by path, from GetHealthReport.
std::map<std::string, v1::StreamReport> StreamReports(v1::ControlService::Stub& stub) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kStep));
  v1::HealthReport report;
  std::map<std::string, v1::StreamReport> by_path;
  if (!stub.GetHealthReport(&context, v1::GetHealthReportRequest(), &report).ok()) return by_path;
  for (const v1::StreamReport& stream : report.streams()) by_path[stream.path()] = stream;
  return by_path;
}

class StartupTest : public ::testing::Test {
 protected:
  void SetUp() override { config_ = WriteTempFile("startup.yaml", Config()); }
  std::string config_;
};

TEST_F(StartupTest, CheckConfigReportsTheBlockedCreateAndTheWildDescriptorWithinTheBound) {
  ServerProcess server;
  absl::Time start = absl::Now();
  EXPECT_FALSE(server.Start({absl::StrCat("--config=", config_), "--check_config"}).ok());
  absl::StatusOr<int> exit_code = server.WaitForExit(kCreateBound + kMargin);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server.output();
  EXPECT_EQ(*exit_code, 2) << server.output();  // not -SIGSEGV
  EXPECT_LT(absl::Now() - start, kCreateBound + kMargin);

  std::map<std::string, std::string> errors = CheckConfigErrors(server.error_output());
  EXPECT_EQ(errors["/hang"],
            "stream /hang: plugin hang: create() did not return within 10s; the call is abandoned "
            "(its thread stays blocked in the plugin and anything it returns later is discarded; "
            "restart the process to reclaim it)")
      << server.error_output();
  EXPECT_EQ(errors["/hang2"],
            "stream /hang2: plugin hang_too: create() did not return within 10s; the call is "
            "abandoned (its thread stays blocked in the plugin and anything it returns later is "
            "discarded; restart the process to reclaim it)")
      << server.error_output();
  EXPECT_EQ(errors["/wild"],
            absl::StrCat("stream /wild: plugin wild_descriptor: ", RunfilePath("plugins/testing"),
                         "/libwild_descriptor.so: rts_plugin_get_descriptor() returned 0x1008, "
                         "which is not readable memory"))
      << server.error_output();
  EXPECT_EQ(errors["/bad"], "stream /bad: plugin testpattern: parameter fps=0: must be in 1..120")
      << server.error_output();
  EXPECT_EQ(errors.count("/good"), 0u) << server.error_output();
}

TEST_F(StartupTest, CheckConfigEndsAtOnceOnSigtermWhileACreateBlocks) {
  ServerProcess server;
  EXPECT_FALSE(
      server.Start({absl::StrCat("--config=", config_), "--check_config"}, absl::Seconds(2)).ok());
  ASSERT_TRUE(server.IsRunning()) << server.output();  // inside the blocked create
  absl::Time sent = absl::Now();
  absl::StatusOr<int> exit_code = server.Stop(SIGTERM, absl::Seconds(5));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server.output();
  EXPECT_EQ(*exit_code, -SIGTERM);
  EXPECT_LT(absl::Now() - sent, absl::Seconds(3));
}

TEST_F(StartupTest, AStartServesTheGoodStreamSoonAndKeepsEveryOtherOneFailedWithItsError) {
  ServerProcess check;
  EXPECT_FALSE(check.Start({absl::StrCat("--config=", config_), "--check_config"}).ok());
  ASSERT_TRUE(check.WaitForExit(kCreateBound + kMargin).ok());
  std::map<std::string, std::string> check_errors = CheckConfigErrors(check.error_output());

  ServerProcess server;
  absl::Time start = absl::Now();
  ASSERT_TRUE(server.StartWithConfig(Config()).ok()) << server.output();
  // Built at once: the start wait, not 20 s per silent stream (nor the
  // blocked create's 600 s).
  EXPECT_LT(absl::Now() - start, kStartWait + kMargin) << server.output();

  tools::RtspClient client(server.url("a", "/good"));
  ASSERT_TRUE(client.Connect(kStep).ok());
  absl::StatusOr<tools::RtspResponse> describe = client.Describe(kStep);
  ASSERT_TRUE(describe.ok()) << describe.status();
  EXPECT_EQ(describe->status_code, 200);

  HealthClient health(server.grpc_port());
  absl::Time deadline = absl::Now() + kStep;
  while (health.CheckStatus("stream:/good") != kServing && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(health.CheckStatus("stream:/good"), kServing);

  // The silent sources fail once gst-rtsp-server gives up on them.
  std::unique_ptr<v1::ControlService::Stub> stub = ControlStub(server.grpc_port());
  std::map<std::string, v1::StreamReport> reports;
  deadline = absl::Now() + kSilentSourceGivesUp + kMargin;
  auto all_settled = [&reports] {
    for (const char* path :
         {"/silent1", "/silent2", "/silent3", "/hang", "/hang2", "/wild", "/bad"}) {
      auto it = reports.find(path);
      if (it == reports.end() || it->second.state() != v1::STREAM_STATE_FAILED) return false;
    }
    return true;
  };
  do {
    reports = StreamReports(*stub);
    if (all_settled()) break;
    absl::SleepFor(absl::Milliseconds(250));
  } while (absl::Now() < deadline);
  ASSERT_TRUE(all_settled()) << server.output();
  EXPECT_EQ(reports["/good"].state(), v1::STREAM_STATE_LIVE);
  for (const char* path : {"/silent1", "/silent2", "/silent3"}) {
    EXPECT_EQ(reports[path].state_reason(),
              absl::StrCat("stream ", path, ": the pipeline failed to start (see log)"));
  }
  // The same error --check_config printed, word for word.
  for (const char* path : {"/hang", "/hang2", "/wild", "/bad"}) {
    EXPECT_EQ(reports[path].state_reason(), check_errors[path]) << path;
  }
  for (const char* path :
       {"/silent1", "/silent2", "/silent3", "/hang", "/hang2", "/wild", "/bad"}) {
    EXPECT_EQ(health.CheckStatus(absl::StrCat("stream:", path)), kNotServing) << path;
  }
  // Listed by ListStreams too, failed with the error.
  grpc::ClientContext context;
  v1::ListStreamsResponse listed;
  ASSERT_TRUE(stub->ListStreams(&context, v1::ListStreamsRequest(), &listed).ok());
  std::map<std::string, v1::StreamStatus> by_path;
  for (const v1::StreamStatus& stream : listed.streams()) by_path[stream.spec().path()] = stream;
  ASSERT_EQ(by_path.size(), 8u);
  EXPECT_EQ(by_path["/bad"].report().state(), v1::STREAM_STATE_FAILED);
  EXPECT_EQ(by_path["/bad"].report().state_reason(), check_errors["/bad"]);

  absl::StatusOr<int> exit_code = server.Stop(SIGTERM, kStep);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server.output();
  EXPECT_EQ(*exit_code, 0);
}

TEST_F(StartupTest, ThreeSilentSourcesDelayStartUpByTheStartWaitOnlyAndAreNotServing) {
  const std::string yaml = absl::StrCat(R"yaml(
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
control: {bind_address: 127.0.0.1, port: 0}
drain_timeout: 0s
plugin_dirs: [")yaml",
                                        RunfilePath("plugins"), R"yaml("]
streams:
)yaml",
                                        SilentStreams(), R"yaml(  - path: /good
    plugin: testpattern
    parameters: {width: 160, height: 120, fps: 5, overlay: false}
)yaml");
  ServerProcess server;
  absl::Time start = absl::Now();
  ASSERT_TRUE(server.StartWithConfig(yaml).ok()) << server.output();
  // One after another they took 3 x 20 s.
  EXPECT_LT(absl::Now() - start, kStartWait + kMargin) << server.output();

  HealthClient health(server.grpc_port());
  absl::Time deadline = absl::Now() + kStep;
  // "rtsp" follows the listener's probe rounds (every 2 s), not the stream:
  // under load a round can still be under way, or be one late, when
  // /good turns SERVING. Both must be SERVING within the step.
  while (
      (health.CheckStatus("stream:/good") != kServing || health.CheckStatus("rtsp") != kServing) &&
      absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(health.CheckStatus("stream:/good"), kServing);
  EXPECT_EQ(health.CheckStatus("rtsp"), kServing);
  std::unique_ptr<v1::ControlService::Stub> stub = ControlStub(server.grpc_port());
  std::map<std::string, v1::StreamReport> reports = StreamReports(*stub);
  EXPECT_EQ(reports["/good"].state(), v1::STREAM_STATE_LIVE);
  for (const char* path : {"/silent1", "/silent2", "/silent3"}) {
    EXPECT_EQ(health.CheckStatus(absl::StrCat("stream:", path)), kNotServing) << path;
    // Still being built in the background, or already given up on.
    EXPECT_TRUE(reports[path].state() == v1::STREAM_STATE_STARTING ||
                reports[path].state() == v1::STREAM_STATE_FAILED)
        << path << ": " << reports[path].ShortDebugString();
  }
  absl::StatusOr<int> exit_code = server.Stop(SIGTERM, kStep);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server.output();
  EXPECT_EQ(*exit_code, 0);
}

TEST_F(StartupTest, SigtermWhileStartWaitsForTheStreamsEndsTheProcessPromptly) {
  ServerProcess server;
  EXPECT_FALSE(server.StartWithConfig(Config(), {}, absl::Seconds(2)).ok());
  ASSERT_TRUE(server.IsRunning()) << server.output();  // still waiting for streams
  absl::Time sent = absl::Now();
  absl::StatusOr<int> exit_code = server.Stop(SIGTERM, kStep);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server.output();
  EXPECT_EQ(*exit_code, 0) << server.output();
  // The wait notices the signal at once; then the stop watchdog (5 s)
  // bounds the wait for the builds still running.
  EXPECT_LT(absl::Now() - sent, absl::Seconds(8)) << server.output();
  EXPECT_TRUE(absl::StrContains(server.output(), "start-up interrupted by a stop signal"))
      << server.output();
}

}  // namespace
}  // namespace rtsptest::testing
