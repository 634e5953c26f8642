// Tests for RtspProber against real loopback sockets: a healthy RTSP
// responder, a stalled one, a wrong protocol, a refused port, a connect
// timeout, IPv6, the deep check, and concurrency.
#include "common/rtsp/rtsp_prober.h"

#include <memory>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/util/loopback_responder.h"

namespace rtsptest::common {
namespace {

using testing::LoopbackResponder;

constexpr absl::Duration kTimeout = absl::Milliseconds(200);

std::unique_ptr<LoopbackResponder> StartOrDie(LoopbackResponder::Handler handler,
                                              const std::string& address = "127.0.0.1") {
  auto responder = LoopbackResponder::Start(std::move(handler), address);
  EXPECT_TRUE(responder.ok()) << responder.status();
  return responder.ok() ? std::move(*responder) : nullptr;
}

common::RtspProber Prober(bool deep = false) {
  return common::RtspProber(common::ProbeOptions{kTimeout, deep});
}

TEST(RtspProberTest, PassesOnOptions200) {
  auto server = StartOrDie(LoopbackResponder::RtspOk());
  const common::ProbeResult r = Prober().Probe({"127.0.0.1", server->port()});
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.failure, common::ProbeFailure::kNone);
  EXPECT_EQ(r.status_line, "RTSP/1.0 200 OK");
  EXPECT_GT(r.latency, absl::ZeroDuration());
  EXPECT_LT(r.latency, kTimeout);
}

TEST(RtspProberTest, SendsTheDocumentedOptionsRequest) {
  std::string seen;
  auto server = StartOrDie([&seen](const std::string& request) {
    seen = request;  // The responder thread writes before replying; read after.
    return LoopbackResponder::RtspOk()(request);
  });
  ASSERT_TRUE(Prober().Probe({"127.0.0.1", server->port()}).ok);
  server->Close();  // Joins the responder thread: `seen` is safe to read.
  EXPECT_EQ(seen, "OPTIONS rtsp://127.0.0.1:" + std::to_string(server->port()) +
                      "/ RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: rtsp-test-server-health/1\r\n\r\n");
}

TEST(RtspProberTest, StalledListenerIsRtspTimeout) {
  auto server = StartOrDie(LoopbackResponder::Stall());
  const absl::Time start = absl::Now();
  const common::ProbeResult r = Prober().Probe({"127.0.0.1", server->port()});
  const absl::Duration took = absl::Now() - start;
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, common::ProbeFailure::kRtspTimeout) << r.reason;
  EXPECT_EQ(server->accepted(), 1);  // The kernel accepted: a connect-only check passes.
  EXPECT_GE(took, kTimeout);
  EXPECT_LT(took, kTimeout + absl::Milliseconds(500));
  EXPECT_NE(r.reason.find("port " + std::to_string(server->port()) + ": "), std::string::npos);
}

TEST(RtspProberTest, RefusedPortIsRefused) {
  const int port = testing::RefusedPort();
  ASSERT_NE(port, 0);
  const common::ProbeResult r = Prober().Probe({"127.0.0.1", port});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, common::ProbeFailure::kRefused);
  EXPECT_EQ(r.error, "connection refused");
  EXPECT_EQ(r.reason, "port " + std::to_string(port) + ": connection refused");
}

TEST(RtspProberTest, HttpReplyIsBadReply) {
  auto server =
      StartOrDie(LoopbackResponder::Fixed("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
  const common::ProbeResult r = Prober().Probe({"127.0.0.1", server->port()});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, common::ProbeFailure::kBadReply);
  EXPECT_EQ(r.status_line, "HTTP/1.1 400 Bad Request");
  EXPECT_NE(r.reason.find("HTTP/1.1 400 Bad Request"), std::string::npos) << r.reason;
}

TEST(RtspProberTest, RtspErrorStatusIsBadReply) {
  auto server = StartOrDie(LoopbackResponder::Fixed(
      "RTSP/1.0 503 Service Unavailable\r\nCSeq: 1\r\n\r\n", /*close_after=*/false));
  const common::ProbeResult r = Prober().Probe({"127.0.0.1", server->port()});
  EXPECT_EQ(r.failure, common::ProbeFailure::kBadReply);
  EXPECT_EQ(r.status_line, "RTSP/1.0 503 Service Unavailable");
}

TEST(RtspProberTest, CloseWithoutReplyIsClosed) {
  auto server = StartOrDie(LoopbackResponder::Fixed("", /*close_after=*/true));
  const common::ProbeResult r = Prober().Probe({"127.0.0.1", server->port()});
  EXPECT_EQ(r.failure, common::ProbeFailure::kClosed) << r.reason;
}

TEST(RtspProberTest, FullBacklogIsConnectTimeout) {
  auto listener = testing::BacklogFullListener::Start();
  ASSERT_TRUE(listener.ok()) << listener.status();
  const common::ProbeResult r = Prober().Probe({"127.0.0.1", (*listener)->port()});
  EXPECT_EQ(r.failure, common::ProbeFailure::kConnectTimeout) << r.reason;
}

TEST(RtspProberTest, UnresolvableHostIsResolveError) {
  // An empty label fails inside glibc: no DNS query leaves the machine.
  const common::ProbeResult r = Prober().Probe({"invalid..host", 8554});
  EXPECT_EQ(r.failure, common::ProbeFailure::kResolveError) << r.reason;
}

TEST(RtspProberTest, ProbesIpv6Loopback) {
  if (!testing::HaveIpv6Loopback()) GTEST_SKIP() << "no IPv6 loopback here";
  std::string seen;
  auto server = StartOrDie(
      [&seen](const std::string& request) {
        seen = request;
        return LoopbackResponder::RtspOk()(request);
      },
      "::1");
  const common::ProbeResult r = Prober().Probe({"::1", server->port()});
  EXPECT_TRUE(r.ok) << r.reason;
  server->Close();
  EXPECT_EQ(seen.rfind("OPTIONS rtsp://[::1]:" + std::to_string(server->port()) + "/ ", 0), 0u)
      << seen;
}

TEST(RtspProberTest, DeepCheckPassesWithSdp) {
  auto server = StartOrDie(LoopbackResponder::RtspOk());
  const common::ProbeResult r = Prober(/*deep=*/true).Probe({"127.0.0.1", server->port(), "cam1"});
  EXPECT_TRUE(r.ok) << r.reason;
}

TEST(RtspProberTest, DeepCheckFailsWithoutSdp) {
  auto server =
      StartOrDie([](const std::string& request) -> std::optional<LoopbackResponder::Reply> {
        if (request.rfind("DESCRIBE", 0) == 0) {
          return LoopbackResponder::Reply{
              "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 5\r\n\r\nhello"};
        }
        return LoopbackResponder::RtspOk()(request);
      });
  const common::ProbeResult r = Prober(/*deep=*/true).Probe({"127.0.0.1", server->port(), "cam1"});
  EXPECT_EQ(r.failure, common::ProbeFailure::kBadSdp) << r.reason;
}

TEST(RtspProberTest, DeepCheckUnknownMountIsBadReply) {
  auto server =
      StartOrDie([](const std::string& request) -> std::optional<LoopbackResponder::Reply> {
        if (request.rfind("DESCRIBE", 0) == 0) {
          return LoopbackResponder::Reply{"RTSP/1.0 404 Not Found\r\nCSeq: 2\r\n\r\n"};
        }
        return LoopbackResponder::RtspOk()(request);
      });
  const common::ProbeResult r = Prober(/*deep=*/true).Probe({"127.0.0.1", server->port(), "nope"});
  EXPECT_EQ(r.failure, common::ProbeFailure::kBadReply);
  EXPECT_EQ(r.status_line, "RTSP/1.0 404 Not Found");
}

TEST(RtspProberTest, ProbeAllRunsConcurrentlyAndKeepsOrder) {
  // Eight stalled listeners: sequential probing would take 8 timeouts.
  std::vector<std::unique_ptr<LoopbackResponder>> stalled;
  std::vector<common::ProbeTarget> targets;
  for (int i = 0; i < 8; ++i) {
    stalled.push_back(StartOrDie(LoopbackResponder::Stall()));
    targets.push_back({"127.0.0.1", stalled.back()->port()});
  }
  auto ok = StartOrDie(LoopbackResponder::RtspOk());
  targets.push_back({"127.0.0.1", ok->port()});
  const absl::Time start = absl::Now();
  const std::vector<common::ProbeResult> results = Prober().ProbeAll(targets);
  const absl::Duration took = absl::Now() - start;
  ASSERT_EQ(results.size(), targets.size());
  for (int i = 0; i < 8; ++i) EXPECT_EQ(results[i].failure, common::ProbeFailure::kRtspTimeout);
  EXPECT_TRUE(results[8].ok);
  EXPECT_LT(took, 3 * kTimeout);
}

TEST(RtspProberTest, ProbeAllBoundsThreads) {
  std::vector<std::unique_ptr<LoopbackResponder>> stalled;
  std::vector<common::ProbeTarget> targets;
  for (int i = 0; i < 4; ++i) {
    stalled.push_back(StartOrDie(LoopbackResponder::Stall()));
    targets.push_back({"127.0.0.1", stalled.back()->port()});
  }
  // Two threads for four stalled probes: two waves of one timeout each.
  const absl::Time start = absl::Now();
  const std::vector<common::ProbeResult> results = Prober().ProbeAll(targets, /*max_threads=*/2);
  EXPECT_GE(absl::Now() - start, 2 * kTimeout);
  for (const common::ProbeResult& r : results)
    EXPECT_EQ(r.failure, common::ProbeFailure::kRtspTimeout);
}

}  // namespace
}  // namespace rtsptest::common
