// Runs the real health_probe binary (a data dependency) against real
// loopback servers and checks every exit code in every mode, the messages
// grpc_health_probe scripts look for, and the ports mode's JSON line.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/util/grpc_health_test_util.h"
#include "tests/util/loopback_responder.h"
#include "tests/util/subprocess.h"

extern char** environ;

namespace rtsptest::tools {
namespace {

using testing::LoopbackResponder;

using RunResult = testing::ProgramResult;

// Runs health_probe with `args`.
RunResult RunProbe(const std::vector<std::string>& args) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return testing::RunProgram(
      absl::StrCat(srcdir ? srcdir : ".", "/rtsp_test_server/tools/health_probe/health_probe"),
      args, "probe");
}
// Servers shared by every case; started once.
class HealthProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = new Env();
    env_->healthy = testing::StartTestGrpcServer(/*with_health=*/true);
    env_->healthy.health()->SetServingStatus("", true);
    env_->healthy.health()->SetServingStatus("rtsp", true);
    env_->healthy.health()->SetServingStatus("down", false);
    env_->no_health = testing::StartTestGrpcServer(/*with_health=*/false);
    env_->refused = testing::RefusedPort();
    env_->backlog_full = std::move(*testing::BacklogFullListener::Start());
    env_->http_ok = Start(LoopbackResponder::Fixed(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"));
    env_->http_503 = Start(
        LoopbackResponder::Fixed("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"));
    env_->http_stall = Start(LoopbackResponder::Stall());
    env_->http_garbage = Start(LoopbackResponder::Fixed("SSH-2.0-OpenSSH_9.2\r\n\r\n"));
    for (int i = 0; i < 4; ++i) env_->rtsp.push_back(Start(LoopbackResponder::RtspOk()));
    env_->rtsp_stall = Start(LoopbackResponder::Stall());
  }
  static void TearDownTestSuite() {
    env_->healthy.server->Shutdown();
    env_->no_health.server->Shutdown();
    delete env_;
  }

  static std::unique_ptr<LoopbackResponder> Start(LoopbackResponder::Handler handler) {
    auto r = LoopbackResponder::Start(std::move(handler));
    if (!r.ok()) std::abort();
    return std::move(*r);
  }

  static std::string Loopback(int port) { return absl::StrCat("127.0.0.1:", port); }
  static std::string Url(int port, const std::string& path = "/health") {
    return absl::StrCat("http://127.0.0.1:", port, path);
  }
  static std::string RtspPorts(int healthy, std::vector<int> extra = {}) {
    std::vector<int> ports;
    for (int i = 0; i < healthy; ++i) ports.push_back(env_->rtsp[i]->port());
    ports.insert(ports.end(), extra.begin(), extra.end());
    return absl::StrJoin(ports, ",");
  }

  struct Env {
    testing::TestGrpcServer healthy;
    testing::TestGrpcServer no_health;
    int refused = 0;
    std::unique_ptr<testing::BacklogFullListener> backlog_full;
    std::unique_ptr<LoopbackResponder> http_ok, http_503, http_stall, http_garbage;
    std::vector<std::unique_ptr<LoopbackResponder>> rtsp;
    std::unique_ptr<LoopbackResponder> rtsp_stall;
  };
  static Env* env_;
};

HealthProbeTest::Env* HealthProbeTest::env_ = nullptr;

struct Case {
  std::string name;
  std::vector<std::string> args;
  int want_exit;
  std::string want_in_output;  // Substring of stderr + stdout.
};

TEST_F(HealthProbeTest, ExitCodesInEveryMode) {
  const std::string healthy = Loopback(env_->healthy.port);
  const std::string refused = Loopback(env_->refused);
  const std::string t = "200ms";
  const std::vector<Case> cases = {
      // grpc mode (the default), grpc_health_probe's flags and messages.
      {"grpc serving", {"-addr=" + healthy}, 0, "status: SERVING"},
      {"grpc double dash, spaced values",
       {"--addr", healthy, "--service", "rtsp", "--connect-timeout", "1s"},
       0,
       "status: SERVING"},
      {"grpc explicit mode, every client flag",
       {"-mode=grpc", "-addr", healthy, "-rpc-timeout=500ms", "-rpc-header", "x-a: 1",
        "-rpc-header=x-b: 2", "-user-agent=probe-test", "-gzip", "-v"},
       0,
       "parsed options:"},
      {"grpc not serving",
       {"-addr=" + healthy, "-service=down"},
       4,
       "service unhealthy (responded with \"NOT_SERVING\")"},
      {"grpc missing addr", {}, 1, "error: -addr not specified"},
      {"grpc unknown flag",
       {"-addr=" + healthy, "-bogus"},
       1,
       "flag provided but not defined: -bogus"},
      {"grpc bad duration", {"-addr=" + healthy, "-rpc-timeout=fast"}, 1, "invalid value"},
      {"grpc zero timeout",
       {"-addr=" + healthy, "-connect-timeout=0"},
       1,
       "-connect-timeout must be greater than zero"},
      {"grpc tls flag without tls",
       {"-addr=" + healthy, "-tls-no-verify"},
       1,
       "without specifying -tls"},
      {"grpc bad rpc header",
       {"-addr=" + healthy, "-rpc-header=novalue"},
       1,
       "invalid -rpc-header"},
      {"grpc flag of another mode",
       {"-addr=" + healthy, "-url=http://x/"},
       1,
       "not valid with -mode=grpc"},
      {"grpc refused",
       {"-addr=" + refused, "-connect-timeout=" + t},
       2,
       "error: failed to connect service at"},
      {"grpc connect timeout",
       {"-addr=" + Loopback(env_->backlog_full->port()), "-connect-timeout=" + t},
       2,
       "timeout: failed to connect service \"" + Loopback(env_->backlog_full->port()) +
           "\" within 200ms"},
      {"grpc unknown service",
       {"-addr=" + healthy, "-service=nope"},
       3,
       "error: health rpc failed: rpc error: code = NotFound"},
      {"grpc no health service",
       {"-addr=" + Loopback(env_->no_health.port)},
       3,
       "does not implement the grpc health protocol"},
      {"version", {"-version"}, 0, "grpc_health_probe compatible"},
      {"help", {"--help"}, 0, "ports mode"},
      {"bad mode", {"-mode=tcp"}, 1, "must be grpc, http or ports"},
      // http mode.
      {"http 200", {"-mode=http", "-url=" + Url(env_->http_ok->port())}, 0, "status: HTTP/1.1 200"},
      {"http 503",
       {"--mode", "http", "--url", Url(env_->http_503->port()), "--timeout", t},
       4,
       "HTTP/1.1 503 Service Unavailable"},
      {"http refused",
       {"-mode=http", "-url=" + Url(env_->refused), "-timeout=" + t},
       2,
       "connection refused"},
      {"http connect timeout",
       {"-mode=http", "-url=" + Url(env_->backlog_full->port()), "-timeout=" + t},
       2,
       "timeout: failed to connect"},
      {"http no reply",
       {"-mode=http", "-url=" + Url(env_->http_stall->port()), "-timeout=" + t},
       3,
       "did not complete within 200ms"},
      {"http not http",
       {"-mode=http", "-url=" + Url(env_->http_garbage->port()), "-timeout=" + t},
       3,
       "malformed status line"},
      {"http https url",
       {"-mode=http", "-url=https://127.0.0.1/health"},
       1,
       "only http:// URLs are supported"},
      {"http bad port", {"-mode=http", "-url=http://127.0.0.1:99999/"}, 1, "port must be 1..65535"},
      {"http missing url", {"-mode=http"}, 1, "-url not specified"},
      {"http grpc flag",
       {"-mode=http", "-url=" + Url(env_->http_ok->port()), "-addr=x"},
       1,
       "not valid with -mode=http"},
      // ports mode.
      {"ports all up",
       {"-mode=ports", "-ports=" + RtspPorts(4), "-timeout=" + t},
       0,
       "\"status\":\"healthy\""},
      {"ports 3 of 4",
       {"-mode=ports", "-ports=" + RtspPorts(3, {env_->refused}), "-timeout=" + t},
       0,
       "\"open_ports\":3"},
      {"ports 2 of 4",
       {"-mode=ports", "-ports=" + RtspPorts(2, {env_->refused, env_->rtsp_stall->port()}),
        "-timeout=" + t},
       4,
       "\"status\":\"unhealthy\""},
      {"ports stalled fails 4 of 4",
       {"-mode=ports", "-ports=" + RtspPorts(3, {env_->rtsp_stall->port()}), "-min-healthy=4",
        "-timeout=" + t},
       4,
       "\"failure\":\"rtsp_timeout\""},
      {"ports deep check",
       {"-mode=ports", "-ports=" + RtspPorts(4), "-describe-path=/cam1"},
       0,
       "\"open_ports\":4"},
      {"ports bad list", {"-mode=ports", "-ports=8554,abc"}, 1, "is not a port"},
      {"ports duplicate", {"-mode=ports", "-ports=8554,8554"}, 1, "listed twice"},
      {"ports k too large",
       {"-mode=ports", "-ports=" + RtspPorts(4), "-min-healthy=5"},
       1,
       "must be 1..4"},
      {"ports bad timeout", {"-mode=ports", "-timeout=-1s"}, 1, "must be greater than zero"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name + ": health_probe " + absl::StrJoin(c.args, " "));
    const RunResult r = RunProbe(c.args);
    EXPECT_EQ(r.exit_code, c.want_exit) << "stdout: " << r.out << "\nstderr: " << r.err;
    EXPECT_NE((r.err + r.out).find(c.want_in_output), std::string::npos)
        << "stdout: " << r.out << "\nstderr: " << r.err;
    EXPECT_LT(r.took, absl::Seconds(3));
  }
}

TEST_F(HealthProbeTest, HttpModeOverIpv6) {
  if (!testing::HaveIpv6Loopback()) GTEST_SKIP() << "no IPv6 loopback here";
  auto server =
      LoopbackResponder::Start(LoopbackResponder::Fixed("HTTP/1.0 200 OK\r\n\r\n"), "::1");
  ASSERT_TRUE(server.ok());
  const RunResult r =
      RunProbe({"-mode=http", absl::StrCat("-url=http://[::1]:", (*server)->port(), "/health")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(HealthProbeTest, PortsModePrintsOneJsonLineWithCounts) {
  const RunResult r =
      RunProbe({"-mode=ports", "-ports=" + RtspPorts(3, {env_->refused}), "-timeout=200ms"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "not one line: " << r.out;
  google::protobuf::Struct json;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &json).ok()) << r.out;
  const auto& f = json.fields();
  EXPECT_EQ(f.at("status").string_value(), "healthy");
  EXPECT_EQ(f.at("open_ports").number_value(), 3);
  EXPECT_EQ(f.at("total_ports").number_value(), 4);
  EXPECT_EQ(f.at("min_healthy").number_value(), 3);
  const auto& ports = f.at("ports").list_value().values();
  ASSERT_EQ(ports.size(), 4);
  for (int i = 0; i < 3; ++i) {
    const auto& p = ports[i].struct_value().fields();
    EXPECT_EQ(p.at("port").number_value(), env_->rtsp[i]->port());
    EXPECT_TRUE(p.at("ok").bool_value());
    EXPECT_GE(p.at("latency_ms").number_value(), 0);
  }
  const auto& down = ports[3].struct_value().fields();
  EXPECT_EQ(down.at("port").number_value(), env_->refused);
  EXPECT_FALSE(down.at("ok").bool_value());
  EXPECT_EQ(down.at("error").string_value(), "connection refused");
  EXPECT_EQ(down.at("failure").string_value(), "refused");
}

TEST_F(HealthProbeTest, HealthyChecksAreFast) {
  // Start-up plus one check; the generous bound only catches regressions
  // like a gRPC channel created in a mode that needs none.
  const RunResult ports = RunProbe({"-mode=ports", "-ports=" + RtspPorts(4)});
  const RunResult grpc = RunProbe({"-addr=" + Loopback(env_->healthy.port)});
  EXPECT_EQ(ports.exit_code, 0);
  EXPECT_EQ(grpc.exit_code, 0);
  EXPECT_LT(ports.took, absl::Milliseconds(500));
  EXPECT_LT(grpc.took, absl::Milliseconds(500));
  std::printf("health_probe wall time: ports mode %s, grpc mode %s\n",
              absl::FormatDuration(ports.took).c_str(), absl::FormatDuration(grpc.took).c_str());
}

}  // namespace
}  // namespace rtsptest::tools
