// The gateway when its control plane goes away: a killed server (SIGKILL)
// turns /health and /ready 503 with a reason in under a second, every
// answer stays fast meanwhile, and a server restarted on the same gRPC port
// brings 200 back without touching the gateway. A stopped (SIGSTOP) server,
// whose sockets stay open, is caught by the report deadline.
#include <signal.h>

#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/gateway/gateway_test_util.h"

namespace rtsptest::testing {
namespace {

constexpr absl::Duration kSettle = absl::Seconds(10);
// A request to the gateway must never wait for gRPC.
constexpr absl::Duration kFastAnswer = absl::Milliseconds(100);

TEST(GatewayControlPlaneTest, KilledServerIs503WithinOneSecondAndRestartBrings200Back) {
  // The first server binds gRPC port 0; the second comes back on the port
  // the first one got, as a restarted task would.
  ServerProcess first;
  ASSERT_TRUE(first.StartWithConfig(ListenersConfig({0, 0, 0, 0})).ok()) << first.output();
  const int grpc_port = first.grpc_port();
  ASSERT_NE(grpc_port, 0) << first.output();
  const std::string grpc_flag = absl::StrCat("--grpc_port=", grpc_port);
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.Start(absl::StrCat("127.0.0.1:", grpc_port)).ok()) << gateway.output();
  ASSERT_EQ(WaitForStatus(gateway.url("/health"), 200, kSettle).status, 200);

  absl::Time killed = absl::Now();
  ASSERT_TRUE(first.Stop(SIGKILL).ok());
  HttpReply reply = WaitForStatus(gateway.url("/health"), 503, absl::Seconds(2));
  absl::Duration took = absl::Now() - killed;
  ASSERT_EQ(reply.status, 503) << reply.body << reply.error;
  EXPECT_LT(took, absl::Seconds(1));
  absl::StatusOr<google::protobuf::Struct> json = ParseJsonObject(reply.body);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->fields().at("status").string_value(), "unhealthy");
  EXPECT_TRUE(absl::StartsWith(json->fields().at("reason").string_value(),
                               absl::StrCat("control plane unreachable at 127.0.0.1:", grpc_port)))
      << reply.body;

  // While it is down: /health and /ready answer 503 at once, every time;
  // /live stays 200.
  for (int i = 0; i < 10; ++i) {
    HttpReply health = Curl(gateway.url("/health"));
    EXPECT_EQ(health.status, 503);
    EXPECT_LT(health.time_total, kFastAnswer);
    HttpReply ready = Curl(gateway.url("/ready"));
    EXPECT_EQ(ready.status, 503);
    EXPECT_TRUE(
        absl::StartsWith(JsonStringField(ready.body, "reason"), "control plane unreachable"))
        << ready.body;
    EXPECT_LT(ready.time_total, kFastAnswer);
    EXPECT_EQ(Curl(gateway.url("/live")).status, 200);
    absl::SleepFor(absl::Milliseconds(100));
  }

  ServerProcess second;
  ASSERT_TRUE(second.StartWithConfig(ListenersConfig({0, 0, 0, 0}), {grpc_flag}).ok())
      << second.output();
  absl::Time restarted = absl::Now();
  HttpReply back = WaitForStatus(gateway.url("/health"), 200, kSettle);
  EXPECT_EQ(back.status, 200) << back.body;
  // Reconnect backoff is capped at 1 s; the first probe round adds little.
  absl::Duration recovered = absl::Now() - restarted;
  EXPECT_LT(recovered, absl::Seconds(3));
  std::cerr << "SIGKILL -> 503 seen after " << absl::FormatDuration(took)
            << "; restart -> 200 after " << absl::FormatDuration(recovered) << "\n";
  EXPECT_TRUE(absl::StrContains(gateway.output(), "lost the control plane")) << gateway.output();
  absl::StatusOr<int> exit_code = gateway.Stop();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

TEST(GatewayControlPlaneTest, StoppedServerIsCaughtByTheReportDeadline) {
  ServerProcess server;
  ASSERT_TRUE(server.StartWithConfig(ListenersConfig({0, 0})).ok()) << server.output();
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.Start(absl::StrCat("127.0.0.1:", server.grpc_port())).ok())
      << gateway.output();
  ASSERT_EQ(WaitForStatus(gateway.url("/health"), 200, kSettle).status, 200);

  // SIGSTOP: the sockets stay open, so neither stream ends; the report's
  // heartbeat stops instead.
  absl::Time stopped = absl::Now();
  kill(server.pid(), SIGSTOP);
  HttpReply reply = WaitForStatus(gateway.url("/health"), 503, absl::Seconds(3));
  absl::Duration took = absl::Now() - stopped;
  kill(server.pid(), SIGCONT);
  ASSERT_EQ(reply.status, 503) << reply.body;
  // report_interval (500 ms, the heartbeat) + rpc_timeout (500 ms), plus
  // polling slack.
  EXPECT_LT(took, absl::Milliseconds(1300));
  std::cerr << "SIGSTOP -> 503 seen after " << absl::FormatDuration(took) << "\n";
  EXPECT_TRUE(absl::StrContains(reply.body, "WatchHealthReport: no report for")) << reply.body;
  EXPECT_EQ(WaitForStatus(gateway.url("/health"), 200, kSettle).status, 200);
}

// SIGTERM ends the gateway promptly, whether it follows a live control plane
// (a Watch stream open) or one that went away (reconnecting with backoff).
TEST(GatewayControlPlaneTest, SigtermExitsPromptly) {
  for (bool server_alive : {true, false}) {
    ServerProcess server;
    ASSERT_TRUE(server.StartWithConfig(ListenersConfig({0})).ok()) << server.output();
    GatewayProcess gateway;
    ASSERT_TRUE(gateway.Start(absl::StrCat("127.0.0.1:", server.grpc_port())).ok())
        << gateway.output();
    ASSERT_EQ(WaitForStatus(gateway.url("/health"), 200, kSettle).status, 200);
    if (!server_alive) {
      ASSERT_TRUE(server.Stop(SIGKILL).ok());
      ASSERT_EQ(WaitForStatus(gateway.url("/health"), 503, kSettle).status, 503);
      absl::SleepFor(absl::Seconds(2));  // into the reconnect backoff
    }
    const absl::Time signalled = absl::Now();
    absl::StatusOr<int> exit_code = gateway.Stop();
    const absl::Duration took = absl::Now() - signalled;
    ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << gateway.output();
    EXPECT_EQ(*exit_code, 0);
    std::cerr << (server_alive ? "following a live server" : "server gone") << ": SIGTERM to exit "
              << absl::FormatDuration(took) << "\n";
    EXPECT_LT(took, absl::Seconds(2)) << (server_alive ? "live server" : "server gone");
  }
}

}  // namespace
}  // namespace rtsptest::testing
