// rtspctl end to end: the built binary, run as a subprocess, against a real
// rtsp_test_server (--grpc_port=0, port 0 listeners). Checks table and JSON
// output and the exit codes scripts rely on.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/json/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/util/subprocess.h"
#include "tools/rtsp_client/rtsp_client.h"

extern char** environ;

namespace rtsptest::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kConfig[] = R"yaml(
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
streams:
  - path: /cam
    plugin: testpattern
    parameters: {codec: mjpeg, width: 320, height: 240, fps: 5, overlay: false}
drain_timeout: 0s
)yaml";

// Parameters of a cheap stream, as --param flags.
const std::vector<std::string> kCheapParams = {"--param", "codec=mjpeg",  "--param", "width=320",
                                               "--param", "height=240",   "--param", "fps=5",
                                               "--param", "overlay=false"};

using RunResult = ProgramResult;

// Runs rtspctl with `args`.
RunResult RunCtl(const std::vector<std::string>& args) {
  return RunProgram(RunfilePath("tools/rtspctl/rtspctl"), args, "rtspctl");
}
std::string Describe(const RunResult& r) {
  return absl::StrCat("exit ", r.exit_code, "\nstdout: ", r.out, "\nstderr: ", r.err);
}

// One server for every test of the suite.
class RtspctlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    absl::Status started = server_->StartWithConfig(kConfig);
    ASSERT_TRUE(started.ok()) << started << "\n" << server_->output();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // rtspctl --addr=<the server> `args`.
  static RunResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), absl::StrCat("--addr=127.0.0.1:", server_->grpc_port()));
    return RunCtl(args);
  }
  static RunResult Ctl(std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return Ctl(std::move(args));
  }
  // Runs `args` with -o json and parses the one document.
  static common::Json CtlJson(std::vector<std::string> args) {
    args.push_back("-o");
    args.push_back("json");
    RunResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    absl::StatusOr<common::Json> json = common::ParseJson(r.out);
    EXPECT_TRUE(json.ok()) << json.status() << "\n" << r.out;
    return json.ok() ? *json : common::Json();
  }

  static ServerProcess* server_;
};

ServerProcess* RtspctlTest::server_ = nullptr;

TEST_F(RtspctlTest, InfoPrintsVersionAndListeners) {
  RunResult table = Ctl({"info"});
  ASSERT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_THAT(table.out, HasSubstr("version:"));
  EXPECT_THAT(table.out, HasSubstr("LISTENER"));

  common::Json json = CtlJson({"info"});
  ASSERT_TRUE(json.is_object());
  EXPECT_TRUE(json["version"].is_string());
  EXPECT_FALSE(json["version"].get<std::string>().empty());
  ASSERT_TRUE(json["listeners"].is_array());
  ASSERT_EQ(json["listeners"].size(), 1u);
  EXPECT_EQ(json["listeners"][0]["name"], "a");
  EXPECT_EQ(json["listeners"][0]["port"].get<int>(), server_->port("a"));

  RunResult yaml = Ctl({"info", "-o", "yaml"});
  ASSERT_EQ(yaml.exit_code, 0) << Describe(yaml);
  EXPECT_THAT(yaml.out, HasSubstr("version: "));
  EXPECT_THAT(yaml.out, HasSubstr("listeners:\n  - name: a"));
}

TEST_F(RtspctlTest, PluginsLsListsTestpattern) {
  RunResult table = Ctl({"plugins", "ls"});
  ASSERT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_THAT(table.out, HasSubstr("NAME"));
  EXPECT_THAT(table.out, HasSubstr("testpattern"));

  common::Json json = CtlJson({"plugins", "ls"});
  ASSERT_TRUE(json["plugins"].is_array());
  bool found = false;
  for (const auto& plugin : json["plugins"]) {
    if (plugin["name"] == "testpattern") {
      found = true;
      EXPECT_TRUE(plugin["parameters"].is_array());
      EXPECT_FALSE(plugin["parameters"].empty());
    }
  }
  EXPECT_TRUE(found) << json.dump();
}

TEST_F(RtspctlTest, HealthReportsListenersAndStreams) {
  RunResult table = Ctl({"health"});
  ASSERT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_THAT(table.out, HasSubstr("serving:"));
  EXPECT_THAT(table.out, HasSubstr("LISTENER"));

  common::Json json = CtlJson({"health"});
  EXPECT_TRUE(json["serving"].is_boolean());
  EXPECT_EQ(json["totalListeners"].get<int>(), 1);
  ASSERT_TRUE(json["listeners"].is_array());
  EXPECT_EQ(json["listeners"][0]["name"], "a");
  ASSERT_TRUE(json["streams"].is_array());
  EXPECT_EQ(json["streams"][0]["path"], "/cam");
}

TEST_F(RtspctlTest, StreamsCreateLsGetUpdateRm) {
  RunResult created = Ctl({"streams", "create", "--path", "/made", "--plugin", "testpattern",
                           "--description", "made by rtspctl"},
                          kCheapParams);
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  EXPECT_THAT(created.out, HasSubstr("/made"));

  RunResult ls = Ctl({"streams", "ls"});
  ASSERT_EQ(ls.exit_code, 0) << Describe(ls);
  EXPECT_THAT(ls.out, HasSubstr("PATH"));
  EXPECT_THAT(ls.out, HasSubstr("KBIT/S"));
  EXPECT_THAT(ls.out, HasSubstr("/made"));
  EXPECT_THAT(ls.out, HasSubstr("/cam"));

  common::Json list = CtlJson({"streams", "ls"});
  ASSERT_TRUE(list["streams"].is_array());
  bool listed = false;
  for (const auto& s : list["streams"]) listed |= s["spec"]["path"] == "/made";
  EXPECT_TRUE(listed) << list.dump();

  common::Json got = CtlJson({"streams", "get", "/made"});
  EXPECT_EQ(got["spec"]["path"], "/made");
  EXPECT_EQ(got["spec"]["plugin"], "testpattern");
  EXPECT_EQ(got["spec"]["description"], "made by rtspctl");
  ASSERT_TRUE(got["urls"].is_array());
  ASSERT_FALSE(got["urls"].empty());
  EXPECT_THAT(got["urls"][0].get<std::string>(),
              HasSubstr(absl::StrCat(":", server_->port("a"), "/made")));

  RunResult updated = Ctl({"streams", "update", "/made", "--param", "fps=10"});
  ASSERT_EQ(updated.exit_code, 0) << Describe(updated);
  common::Json after = CtlJson({"streams", "get", "/made"});
  EXPECT_EQ(after["spec"]["parameters"]["fps"], "10") << after.dump();
  // The other parameters were kept (--param merges).
  EXPECT_EQ(after["spec"]["parameters"]["codec"], "mjpeg") << after.dump();
  EXPECT_EQ(after["spec"]["description"], "made by rtspctl");

  RunResult removed = Ctl({"streams", "rm", "/made"});
  ASSERT_EQ(removed.exit_code, 0) << Describe(removed);
  RunResult gone = Ctl({"streams", "get", "/made"});
  EXPECT_EQ(gone.exit_code, 3) << Describe(gone);
}

TEST_F(RtspctlTest, StreamsApplyCreatesAndDeletes) {
  RunResult doomed =
      Ctl({"streams", "create", "--path", "/doomed", "--plugin", "testpattern"}, kCheapParams);
  ASSERT_EQ(doomed.exit_code, 0) << Describe(doomed);
  const std::string file = WriteTempFile("apply.yaml", R"yaml(
streams:
  - path: /applied1
    plugin: testpattern
    parameters: {codec: mjpeg, width: 320, height: 240, fps: 5, overlay: false}
  - path: /applied2
    plugin: testpattern
    parameters: {codec: mjpeg, width: 320, height: 240, fps: 5, overlay: false}
delete: [/doomed]
)yaml");
  RunResult table = Ctl({"streams", "apply", "-f", file});
  ASSERT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_THAT(table.out, HasSubstr("/applied1"));
  EXPECT_THAT(table.out, HasSubstr("CREATED"));
  EXPECT_THAT(table.out, HasSubstr("DELETED"));

  // Applying again changes nothing, and the delete of a path that is gone
  // fails: the exit code is that item's (NOT_FOUND, 3).
  RunResult second = Ctl({"streams", "apply", "-f", file, "-o", "json"});
  EXPECT_EQ(second.exit_code, 3) << Describe(second);
  absl::StatusOr<common::Json> again = common::ParseJson(second.out);
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << second.out;
  ASSERT_TRUE((*again)["results"].is_array());
  ASSERT_EQ((*again)["results"].size(), 3u) << again->dump();
  EXPECT_EQ((*again)["results"][0]["path"], "/applied1");
  EXPECT_EQ((*again)["results"][0]["action"], "UNCHANGED");
  EXPECT_EQ((*again)["results"][2]["path"], "/doomed");
  EXPECT_EQ((*again)["results"][2]["action"], "FAILED");

  EXPECT_EQ(Ctl({"streams", "get", "/applied2"}).exit_code, 0);
  EXPECT_EQ(Ctl({"streams", "get", "/doomed"}).exit_code, 3);
  EXPECT_EQ(Ctl({"streams", "rm", "/applied1"}).exit_code, 0);
  EXPECT_EQ(Ctl({"streams", "rm", "/applied2"}).exit_code, 0);
}

TEST_F(RtspctlTest, CreateFromFileReportsFileLineAndColumn) {
  const std::string file = WriteTempFile("bad_stream.yaml", R"yaml(path: /typo
plugin: testpattern
paramters: {fps: 5}
)yaml");
  RunResult r = Ctl({"streams", "create", "-f", file});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("bad_stream.yaml:3:1"));
  EXPECT_THAT(r.err, HasSubstr("parameters"));  // the "did you mean" hint
}

TEST_F(RtspctlTest, RmUnknownStreamExits3) {
  RunResult r = Ctl({"streams", "rm", "/nope"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("rtspctl: NOT_FOUND: "));
}

TEST_F(RtspctlTest, DuplicateCreateExits4) {
  RunResult r =
      Ctl({"streams", "create", "--path", "/cam", "--plugin", "testpattern"}, kCheapParams);
  EXPECT_EQ(r.exit_code, 4) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("rtspctl: ALREADY_EXISTS: "));
}

TEST_F(RtspctlTest, BadParameterExits5) {
  RunResult r =
      Ctl({"streams", "create", "--path", "/bad", "--plugin", "testpattern", "--param", "fps=0"});
  EXPECT_EQ(r.exit_code, 5) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("rtspctl: INVALID_ARGUMENT: "));
  EXPECT_THAT(r.err, HasSubstr("fps"));
}

TEST_F(RtspctlTest, UnreachableServerExits7) {
  RunResult r = RunCtl({"--addr=127.0.0.1:1", "--timeout=2s", "info"});
  EXPECT_EQ(r.exit_code, 7) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("rtspctl: UNAVAILABLE: "));
}

TEST_F(RtspctlTest, BadUsageExits2) {
  EXPECT_EQ(RunCtl({}).exit_code, 2);
  EXPECT_EQ(RunCtl({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(RunCtl({"streams", "frob"}).exit_code, 2);
  EXPECT_EQ(RunCtl({"streams", "get"}).exit_code, 2);
  EXPECT_EQ(RunCtl({"info", "-o", "xml"}).exit_code, 2);
  EXPECT_EQ(RunCtl({"info", "--bogus=1"}).exit_code, 2);
  EXPECT_EQ(RunCtl({"info", "--timeout=soon"}).exit_code, 2);
  EXPECT_EQ(RunCtl({"streams", "create", "--param", "novalue", "--path", "/x"}).exit_code, 2);
}

TEST_F(RtspctlTest, EventsReplaysKeptEventsAsJsonLinesAndTable) {
  std::vector<std::string> create = {"streams", "create",   "--path",
                                     "/evt",    "--plugin", "testpattern"};
  create.insert(create.end(), kCheapParams.begin(), kCheapParams.end());
  ASSERT_EQ(Ctl(create).exit_code, 0);
  RunResult json =
      Ctl({"events", "--after=0", "--count=1", "--stream=/evt", "--kind=stream", "-o", "json"});
  ASSERT_EQ(json.exit_code, 0) << Describe(json);
  absl::StatusOr<common::Json> event = common::ParseJson(json.out);
  ASSERT_TRUE(event.ok()) << event.status() << "\n" << json.out;
  EXPECT_EQ((*event)["kind"], "stream");
  EXPECT_EQ((*event)["type"], "created");
  EXPECT_EQ((*event)["stream"], "/evt");
  EXPECT_TRUE((*event)["sequence"].is_string());  // uint64 in protobuf's JSON mapping

  RunResult table = Ctl({"events", "--after=0", "--count=1", "--stream=/evt", "--kind=stream"});
  ASSERT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_THAT(table.out,
              ::testing::MatchesRegex(
                  "[0-9]+  [0-9:.]+  stream  created  /evt  from=starting  to=starting\n"));
  EXPECT_EQ(Ctl({"streams", "rm", "/evt"}).exit_code, 0);
}

TEST_F(RtspctlTest, FaultInjectLsClear) {
  RunResult injected = Ctl({"fault", "inject", "stall", "--stream", "/cam", "-o", "json"});
  ASSERT_EQ(injected.exit_code, 0) << Describe(injected);
  absl::StatusOr<common::Json> fault = common::ParseJson(injected.out);
  ASSERT_TRUE(fault.ok()) << injected.out;
  const std::string id = (*fault)["id"];
  EXPECT_EQ((*fault)["spec"]["kind"], "stall");

  RunResult listed = Ctl({"fault", "ls"});
  ASSERT_EQ(listed.exit_code, 0) << Describe(listed);
  EXPECT_THAT(listed.out, HasSubstr("ID"));
  EXPECT_THAT(listed.out, ::testing::ContainsRegex(id + " +stall +/cam .* when cleared"));

  RunResult again = Ctl({"fault", "inject", "stall", "--stream", "/cam"});
  EXPECT_EQ(again.exit_code, 5) << Describe(again);
  EXPECT_THAT(again.err, HasSubstr("FAILED_PRECONDITION: stream /cam already has a stall fault"));

  RunResult cleared = Ctl({"fault", "clear", id});
  ASSERT_EQ(cleared.exit_code, 0) << Describe(cleared);
  EXPECT_THAT(cleared.out, HasSubstr(id));
  RunResult gone = Ctl({"fault", "clear", id});
  EXPECT_EQ(gone.exit_code, 3) << Describe(gone);
  EXPECT_THAT(gone.err, HasSubstr("NOT_FOUND: fault " + id + " is not active"));
}

TEST_F(RtspctlTest, FaultErrorsExitWithTheirCodes) {
  RunResult kind = Ctl({"fault", "inject", "melt", "--stream", "/cam"});
  EXPECT_EQ(kind.exit_code, 5) << Describe(kind);
  EXPECT_THAT(kind.err, HasSubstr("fault.kind \"melt\" is not a stream fault"));
  EXPECT_EQ(Ctl({"fault", "inject", "stall", "--stream", "/nope"}).exit_code, 3);
  EXPECT_EQ(Ctl({"fault", "clear"}).exit_code, 2);
  EXPECT_EQ(Ctl({"fault", "inject", "drop", "--stream", "/cam", "--percent", "many"}).exit_code, 2);
}

// A server with a control token: rtspctl exits 6 without it or with a wrong
// one, and works with --token or $RTSP_TEST_CONTROL_TOKEN.
TEST(RtspctlTokenTest, MutatingCommandsNeedTheToken) {
  constexpr char kToken[] = "s3cret-t0ken";
  ServerProcess server;
  server.SetEnv("RTSP_TEST_CONTROL_TOKEN", kToken);
  ASSERT_TRUE(server.StartWithConfig(kConfig).ok()) << server.output();
  const std::string addr = absl::StrCat("--addr=127.0.0.1:", server.grpc_port());
  std::vector<std::string> create = {addr,       "streams",  "create",     "--path",
                                     "/guarded", "--plugin", "testpattern"};
  create.insert(create.end(), kCheapParams.begin(), kCheapParams.end());

  RunResult none = RunCtl(create);
  EXPECT_EQ(none.exit_code, 6) << Describe(none);
  EXPECT_THAT(none.err, HasSubstr("rtspctl: UNAUTHENTICATED: missing bearer token"));
  std::vector<std::string> wrong = create;
  wrong.insert(wrong.begin() + 1, "--token=not-it");
  RunResult denied = RunCtl(wrong);
  EXPECT_EQ(denied.exit_code, 6) << Describe(denied);
  EXPECT_THAT(denied.err, HasSubstr("rtspctl: PERMISSION_DENIED: wrong token"));
  // Reads need no token.
  RunResult ls = RunCtl({addr, "streams", "ls"});
  EXPECT_EQ(ls.exit_code, 0) << Describe(ls);

  std::vector<std::string> right = create;
  right.insert(right.begin() + 1, absl::StrCat("--token=", kToken));
  RunResult created = RunCtl(right);
  EXPECT_EQ(created.exit_code, 0) << Describe(created);
  setenv("RTSP_TEST_CONTROL_TOKEN", kToken, 1);
  RunResult removed = RunCtl({addr, "streams", "rm", "/guarded"});
  unsetenv("RTSP_TEST_CONTROL_TOKEN");
  EXPECT_EQ(removed.exit_code, 0) << Describe(removed);
  EXPECT_FALSE(absl::StrContains(server.output(), kToken));
}

TEST_F(RtspctlTest, HelpOnEveryCommand) {
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"--help"},
                                             {"streams", "--help"},
                                             {"streams", "create", "--help"},
                                             {"plugins", "ls", "-h"},
                                             {"health", "--help"},
                                             {"info", "--help"},
                                             {"sessions", "--help"},
                                             {"fault", "inject", "--help"},
                                             {"events", "--help"}}) {
    RunResult r = RunCtl(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << "\n" << Describe(r);
    EXPECT_THAT(r.out, HasSubstr("Examples")) << args[0];
    EXPECT_THAT(r.out, HasSubstr("Exit codes")) << args[0];
  }
}

// A playing reader is a row of `sessions ls` (table and JSON); `sessions
// kick <id>` closes it and says so; an unknown id exits 3 (NOT_FOUND).
TEST_F(RtspctlTest, SessionsLsAndKick) {
  tools::RtspClient reader(server_->url("a", "/cam"));
  ASSERT_TRUE(reader.Connect(absl::Seconds(10)).ok());
  ASSERT_TRUE(reader.Describe(absl::Seconds(10)).ok());
  ASSERT_TRUE(reader.SetupAll(tools::Transport::kTcpInterleaved, absl::Seconds(10)).ok());
  ASSERT_TRUE(reader.Play(absl::Seconds(10)).ok());
  const std::string id = reader.session();
  ASSERT_FALSE(id.empty());

  RunResult table = Ctl({"sessions", "ls"});
  ASSERT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_THAT(table.out, ::testing::StartsWith("ID  "));
  EXPECT_THAT(table.out, ::testing::ContainsRegex(
                             "ID +STREAM +LISTENER +REMOTE +TRANSPORT +AGE +PACKETS +KBYTES"));
  // Ids are letters and digits, so a shell, a flag position and a regular
  // expression take them as they are.
  ASSERT_THAT(id, ::testing::MatchesRegex("[A-Za-z0-9]{16}"));
  EXPECT_THAT(table.out, ::testing::ContainsRegex(id + " +/cam +a +127\\.0\\.0\\.1:[0-9]+ +tcp "));

  common::Json json = CtlJson({"sessions", "ls", "--stream", "/cam"});
  ASSERT_TRUE(json["sessions"].is_array()) << json.dump();
  ASSERT_EQ(json["sessions"].size(), 1u) << json.dump();
  EXPECT_EQ(json["sessions"][0]["id"], id);
  EXPECT_EQ(json["sessions"][0]["stream"], "/cam");
  EXPECT_EQ(json["sessions"][0]["transport"], "tcp");

  RunResult kicked = Ctl({"sessions", "kick", id});
  EXPECT_EQ(kicked.exit_code, 0) << Describe(kicked);
  EXPECT_EQ(kicked.out, "kicked 1 session\n");
  // The reader sees its connection closed.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  absl::StatusOr<int64_t> read = int64_t{0};
  while (read.ok() && absl::Now() < deadline) read = reader.ReadMedia(absl::Milliseconds(200));
  EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable) << read.status();

  RunResult unknown = Ctl({"sessions", "kick", id});
  EXPECT_EQ(unknown.exit_code, 3) << Describe(unknown);
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND: session " + id + ": no such session"));
}

}  // namespace
}  // namespace rtsptest::testing
