// scripts/test_health_checks.py against the real rtsp_test_server: it exits 0
// against a healthy server (with its own gRPC client and with health_probe),
// and non-zero with a readable FAIL line when a port is wrong, a health name
// is unknown, or the server is gone.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/util/loopback.h"
#include "tests/util/subprocess.h"

namespace rtsptest::testing {
namespace {

constexpr char kConfig[] = R"yaml(
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
  - {name: b, bind_address: 127.0.0.1, port: 0}
  - {name: c, bind_address: 127.0.0.1, port: 0}
  - {name: d, bind_address: 127.0.0.1, port: 0}
streams:
  - path: /cam1
    plugin: testpattern
    parameters: {codec: mjpeg, width: 320, height: 240, fps: 5, overlay: false}
drain_timeout: 0s
)yaml";

struct Result {
  int exit_code = -1;
  std::string output;  // stdout, then stderr
};

// Runs `python3 scripts/test_health_checks.py args...` (python3 from PATH,
// as CI runs it). The script bounds its own time (--timeout, --wait).
Result RunScript(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"python3", RunfilePath("scripts/test_health_checks.py")};
  argv.insert(argv.end(), args.begin(), args.end());
  ProgramResult run = RunProgram("/usr/bin/env", argv, "test_health_checks");
  return {run.exit_code, run.out + run.err};
}

// The report line of the check `kind` on `target`, or "".
std::string ReportLine(const std::string& output, const std::string& kind,
                       const std::string& target) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (absl::StrContains(line, kind) && absl::StrContains(line, target + " ")) {
      return std::string(line);
    }
  }
  return "";
}

class TestHealthChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.StartWithConfig(kConfig, {"--http_port=0", "--bind=127.0.0.1"}).ok())
        << server_.output();
    ASSERT_TRUE(server_.WaitForOutput("\"msg\":\"http gateway serving\"", absl::Seconds(10)))
        << server_.output();
    for (const char* name : {"a", "b", "c", "d"}) {
      ASSERT_NE(server_.port(name), 0) << name << "\n" << server_.output();
      ports_.push_back(absl::StrCat(server_.port(name)));
    }
    url_ = absl::StrCat("http://127.0.0.1:", server_.http_port());
    grpc_ = absl::StrCat("127.0.0.1:", server_.grpc_port());
    // The monitor's first round (health "" SERVING, /health 200), so that
    // single-round runs below see a settled server.
    ASSERT_EQ(RunScript({"--grpc", grpc_, "--url", url_, "--rtsp", "", "--wait", "15"}).exit_code,
              0);
  }

  // Every check against the server; --wait covers the monitor's first round.
  std::vector<std::string> AllChecks(const std::vector<std::string>& ports) {
    return {"--url",      url_,     "--grpc",
            grpc_,        "--rtsp", "127.0.0.1:" + absl::StrJoin(ports, ","),
            "--describe", "/cam1",  "--timeout",
            "3",          "--wait", "10"};
  }

  ServerProcess server_;
  std::vector<std::string> ports_;
  std::string url_;
  std::string grpc_;
};

TEST_F(TestHealthChecksTest, HealthyServerPassesEveryCheck) {
  Result r = RunScript(AllChecks(ports_));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // One gRPC, one HTTP and three per port (tcp, OPTIONS, DESCRIBE).
  EXPECT_TRUE(absl::StrContains(r.output, "OK: all 14 checks passed")) << r.output;
  EXPECT_FALSE(absl::StrContains(r.output, "FAIL")) << r.output;
  EXPECT_TRUE(absl::StartsWith(ReportLine(r.output, "grpc Check", grpc_), "PASS")) << r.output;
  EXPECT_TRUE(absl::StrContains(ReportLine(r.output, "http GET", url_ + "/health"),
                                "HTTP 200 status=healthy open_ports=4/4"))
      << r.output;
  for (const std::string& port : ports_) {
    const std::string describe =
        ReportLine(r.output, "rtsp DESCRIBE", absl::StrCat("rtsp://127.0.0.1:", port, "/cam1"));
    EXPECT_TRUE(absl::StartsWith(describe, "PASS")) << r.output;
    EXPECT_TRUE(absl::StrContains(describe, "SDP with video")) << describe;
    // The measured time is on every line.
    EXPECT_TRUE(absl::StrContains(describe, " ms ")) << describe;
  }
}

TEST_F(TestHealthChecksTest, HealthProbeBinaryMakesTheContainerCheck) {
  std::vector<std::string> args = AllChecks(ports_);
  args.push_back("--health-probe=" + RunfilePath("tools/health_probe/health_probe"));
  Result r = RunScript(args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(absl::StrContains(ReportLine(r.output, "grpc Check", grpc_),
                                "health_probe exit 0: status: SERVING"))
      << r.output;
  // Kubernetes' liveness name, through both clients.
  for (bool probe : {false, true}) {
    std::vector<std::string> control = {"--grpc", grpc_, "--grpc-service", "control",
                                        "--url",  "",    "--rtsp",         ""};
    if (probe) control.push_back(args.back());
    EXPECT_EQ(RunScript(control).exit_code, 0);
  }
}

TEST_F(TestHealthChecksTest, JsonReportForCi) {
  std::vector<std::string> args = AllChecks(ports_);
  args.push_back("--json");
  Result r = RunScript(args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(absl::StartsWith(r.output, "{")) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "\"ok\": true")) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "\"failed\": 0")) << r.output;
}

TEST_F(TestHealthChecksTest, WrongPortFailsWithAReadableLine) {
  HeldPort refusing(HeldPort::Mode::kRefusing);
  ASSERT_TRUE(refusing.ok());
  std::vector<std::string> ports = ports_;
  ports.back() = absl::StrCat(refusing.port());
  std::vector<std::string> args = AllChecks(ports);
  args.back() = "0";  // --wait 0: one round
  Result r = RunScript(args);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const std::string where = absl::StrCat("127.0.0.1:", refusing.port());
  const std::string line = ReportLine(r.output, "tcp connect", where);
  EXPECT_TRUE(absl::StartsWith(line, "FAIL")) << r.output;
  EXPECT_TRUE(absl::StrContains(line, "connection refused")) << line;
  EXPECT_TRUE(absl::StartsWith(
      ReportLine(r.output, "rtsp OPTIONS", absl::StrCat("rtsp://", where, "/")), "FAIL"))
      << r.output;
  // The server itself is healthy: 3 of 4 is not the question here.
  EXPECT_TRUE(absl::StartsWith(ReportLine(r.output, "grpc Check", grpc_), "PASS")) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "FAILED: 3 of 14 checks failed")) << r.output;
}

TEST_F(TestHealthChecksTest, UnknownStreamAndHealthNameFail) {
  Result r = RunScript({"--grpc", grpc_, "--grpc-service", "nope", "--url", url_, "--rtsp",
                        "127.0.0.1:" + ports_[0], "--describe", "/no-such-stream"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(absl::StrContains(ReportLine(r.output, "grpc Check", grpc_), "RPC failed: NOT_FOUND"))
      << r.output;
  EXPECT_TRUE(
      absl::StrContains(ReportLine(r.output, "rtsp DESCRIBE", "/no-such-stream"), "RTSP/1.0 404"))
      << r.output;
}

TEST_F(TestHealthChecksTest, ServerGoneFailsEveryCheck) {
  ASSERT_EQ(server_.Stop(SIGTERM).value_or(-1), 0) << server_.output();
  std::vector<std::string> args = AllChecks(ports_);
  args.back() = "2";  // --wait 2: retries, then gives up
  const absl::Time start = absl::Now();
  Result r = RunScript(args);
  EXPECT_LT(absl::Now() - start, absl::Seconds(20)) << "bounded by --wait and --timeout";
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "FAILED: 14 of 14 checks failed")) << r.output;
  EXPECT_TRUE(
      absl::StrContains(ReportLine(r.output, "http GET", url_ + "/health"), "connection refused"))
      << r.output;
  EXPECT_TRUE(absl::StartsWith(ReportLine(r.output, "grpc Check", grpc_), "FAIL")) << r.output;
}

TEST(TestHealthChecksHelpTest, HelpNamesEveryArgumentAndBadArgumentsExit2) {
  Result help = RunScript({"--help"});
  EXPECT_EQ(help.exit_code, 0) << help.output;
  for (const char* flag : {"--url", "--grpc", "--grpc-service", "--health-probe", "--rtsp",
                           "--describe", "--timeout", "--wait", "--json", "Exit status"}) {
    EXPECT_TRUE(absl::StrContains(help.output, flag)) << flag;
  }
  EXPECT_EQ(RunScript({"--rtsp", "127.0.0.1:notaport"}).exit_code, 2);
  EXPECT_EQ(RunScript({"--timeout", "0"}).exit_code, 2);
  EXPECT_EQ(RunScript({"--grpc", "", "--url", "", "--rtsp", ""}).exit_code, 2);
}

}  // namespace
}  // namespace rtsptest::testing
