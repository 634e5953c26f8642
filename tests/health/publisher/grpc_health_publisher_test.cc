// Tests for GrpcHealthPublisher on a real grpc::Server with gRPC's default
// health service, through a real grpc.health.v1 client: Check answers,
// NOT_FOUND for unknown names, and Watch seeing each transition once, in
// order. The last test wires a real HealthMonitor to it.
#include "health/publisher/grpc_health_publisher.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "health/monitor/health_monitor.h"
#include "tests/util/grpc_health_test_util.h"
#include "tests/util/loopback_responder.h"

namespace rtsptest::health {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
constexpr auto SERVING = HealthCheckResponse::SERVING;
constexpr auto NOT_SERVING = HealthCheckResponse::NOT_SERVING;

class GrpcHealthPublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = testing::StartTestGrpcServer(/*with_health=*/true);
    ASSERT_NE(server_.server, nullptr);
    ASSERT_NE(server_.health(), nullptr);
    stub_ =
        Health::NewStub(grpc::CreateChannel(server_.address(), grpc::InsecureChannelCredentials()));
    listeners_ = {{"a", "127.0.0.1", 18554},
                  {"b", "127.0.0.1", 18555},
                  {"c", "127.0.0.1", 18556},
                  {"d", "127.0.0.1", 18557}};
  }
  void TearDown() override { server_.server->Shutdown(); }

  // Check(name): the status, or -code for an RPC error.
  int Check(const std::string& name) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    HealthCheckRequest request;
    request.set_service(name);
    HealthCheckResponse response;
    grpc::Status status = stub_->Check(&context, request, &response);
    if (!status.ok()) return -static_cast<int>(status.error_code());
    return response.status();
  }

  HealthSnapshot Snapshot(std::vector<bool> up, bool serving) {
    HealthSnapshot s;
    s.first_round_done = true;
    s.serving = serving;
    for (size_t i = 0; i < listeners_.size(); ++i) {
      ListenerHealth h;
      h.listener = listeners_[i];
      h.serving = up[i];
      s.listeners.push_back(h);
    }
    return s;
  }

  testing::TestGrpcServer server_;
  std::unique_ptr<Health::Stub> stub_;
  std::vector<ListenerSpec> listeners_;
};

TEST_F(GrpcHealthPublisherTest, BeforeFirstRoundOverallIsNotServing) {
  GrpcHealthPublisher publisher(server_.health(), listeners_);
  EXPECT_EQ(Check(""), NOT_SERVING);
  EXPECT_EQ(Check("rtsp"), NOT_SERVING);
  EXPECT_EQ(Check("rtsp:18554"), NOT_SERVING);
  EXPECT_EQ(Check("control"), SERVING);
}

TEST_F(GrpcHealthPublisherTest, UnknownNameIsNotFound) {
  GrpcHealthPublisher publisher(server_.health(), listeners_);
  EXPECT_EQ(Check("rtsp:1"), -static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(Check("nope"), -static_cast<int>(grpc::StatusCode::NOT_FOUND));
}

TEST_F(GrpcHealthPublisherTest, PublishesRuleAndPerListenerNames) {
  GrpcHealthPublisher publisher(server_.health(), listeners_);
  publisher.Publish(Snapshot({true, true, true, false}, /*serving=*/true));
  EXPECT_EQ(Check(""), SERVING);
  EXPECT_EQ(Check("rtsp"), SERVING);
  EXPECT_EQ(Check("rtsp:18554"), SERVING);
  EXPECT_EQ(Check("rtsp:18557"), NOT_SERVING);
  EXPECT_EQ(Check("control"), SERVING);
  publisher.Publish(Snapshot({true, false, true, false}, /*serving=*/false));
  EXPECT_EQ(Check(""), NOT_SERVING);
  EXPECT_EQ(Check("rtsp"), NOT_SERVING);
  EXPECT_EQ(Check("rtsp:18555"), NOT_SERVING);
  EXPECT_EQ(Check("control"), SERVING);
}

TEST_F(GrpcHealthPublisherTest, DrainTurnsEveryNameNotServingForGood) {
  GrpcHealthPublisher publisher(server_.health(), listeners_);
  publisher.Publish(Snapshot({true, true, true, true}, true));
  HealthSnapshot drain = Snapshot({true, true, true, true}, false);
  drain.draining = true;
  publisher.Publish(drain);
  for (const char* name : {"", "rtsp", "rtsp:18554", "rtsp:18557", "control"}) {
    EXPECT_EQ(Check(name), NOT_SERVING) << name;
  }
  publisher.Publish(Snapshot({true, true, true, true}, true));  // Too late.
  EXPECT_EQ(Check(""), NOT_SERVING);
  EXPECT_EQ(Check("control"), NOT_SERVING);
}

TEST_F(GrpcHealthPublisherTest, DrainTurnsTheOverallNameNotServingAfterEveryOther) {
  GrpcHealthPublisher publisher(server_.health(), listeners_, {"/cam"});
  publisher.Publish(Snapshot({true, true, true, true}, true));
  publisher.PublishStreams({{"/cam", true}});
  std::vector<std::string> turned_off;
  publisher.SetChangeObserver([&](const std::string& name, std::optional<bool>, bool serving) {
    if (!serving) turned_off.push_back(name);
  });
  HealthSnapshot drain = Snapshot({true, true, true, true}, false);
  drain.draining = true;
  publisher.Publish(drain);
  // Every name that was SERVING: the four ports, rtsp, stream:/cam, control, "".
  ASSERT_EQ(turned_off.size(), 8u);
  EXPECT_EQ(turned_off.back(), "");
}

TEST_F(GrpcHealthPublisherTest, StreamNamesAreRegisteredNotServingAndFollowLiveness) {
  GrpcHealthPublisher publisher(server_.health(), listeners_, {"/cam1", "/cam2"});
  EXPECT_EQ(Check("stream:/cam1"), NOT_SERVING);
  EXPECT_EQ(Check("stream:/cam2"), NOT_SERVING);
  EXPECT_EQ(Check("stream:/nope"), -static_cast<int>(grpc::StatusCode::NOT_FOUND));
  publisher.PublishStreams({{"/cam1", true}, {"/cam2", false}});
  EXPECT_EQ(Check("stream:/cam1"), SERVING);
  EXPECT_EQ(Check("stream:/cam2"), NOT_SERVING);
  publisher.PublishStreams({{"/cam1", false}, {"/cam2", true}});
  EXPECT_EQ(Check("stream:/cam1"), NOT_SERVING);
  EXPECT_EQ(Check("stream:/cam2"), SERVING);
}

TEST_F(GrpcHealthPublisherTest, ByDefaultOverallIgnoresStreams) {
  GrpcHealthPublisher publisher(server_.health(), listeners_, {"/cam1"});
  publisher.Publish(Snapshot({true, true, true, true}, true));
  publisher.PublishStreams({{"/cam1", false}});
  EXPECT_EQ(Check(""), SERVING);
  EXPECT_EQ(Check("rtsp"), SERVING);
  EXPECT_EQ(Check("stream:/cam1"), NOT_SERVING);
}

TEST_F(GrpcHealthPublisherTest, RequireLiveStreamsMakesOverallFollowEveryStream) {
  GrpcHealthPublisher publisher(server_.health(), listeners_, {"/cam1", "/cam2"},
                                /*require_live_streams=*/true);
  publisher.Publish(Snapshot({true, true, true, true}, true));
  EXPECT_EQ(Check(""), NOT_SERVING);  // Streams not evaluated yet.
  publisher.PublishStreams({{"/cam1", true}, {"/cam2", true}});
  EXPECT_EQ(Check(""), SERVING);
  publisher.PublishStreams({{"/cam1", true}, {"/cam2", false}});
  EXPECT_EQ(Check(""), NOT_SERVING);
  EXPECT_EQ(Check("rtsp"), SERVING);  // The port rule alone.
  publisher.PublishStreams({{"/cam1", true}, {"/cam2", true}});
  EXPECT_EQ(Check(""), SERVING);
  // The port rule still applies.
  publisher.Publish(Snapshot({true, false, false, true}, false));
  EXPECT_EQ(Check(""), NOT_SERVING);
}

TEST_F(GrpcHealthPublisherTest, RemovedStreamTurnsNotServing) {
  GrpcHealthPublisher publisher(server_.health(), listeners_, {"/cam1", "/cam2"});
  publisher.PublishStreams({{"/cam1", true}, {"/cam2", true}});
  publisher.PublishStreams({{"/cam1", true}});
  EXPECT_EQ(Check("stream:/cam1"), SERVING);
  EXPECT_EQ(Check("stream:/cam2"), NOT_SERVING);
  std::map<std::string, bool> statuses = publisher.Statuses();
  EXPECT_EQ(statuses.at("stream:/cam1"), true);
  EXPECT_EQ(statuses.at("stream:/cam2"), false);
}

TEST_F(GrpcHealthPublisherTest, DrainTurnsStreamNamesNotServingForGood) {
  GrpcHealthPublisher publisher(server_.health(), listeners_, {"/cam1"});
  publisher.PublishStreams({{"/cam1", true}});
  HealthSnapshot drain = Snapshot({true, true, true, true}, false);
  drain.draining = true;
  publisher.Publish(drain);
  EXPECT_EQ(Check("stream:/cam1"), NOT_SERVING);
  publisher.PublishStreams({{"/cam1", true}});  // Too late.
  EXPECT_EQ(Check("stream:/cam1"), NOT_SERVING);
}

TEST_F(GrpcHealthPublisherTest, WatchSeesEachTransitionOnceInOrder) {
  GrpcHealthPublisher publisher(server_.health(), listeners_);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  HealthCheckRequest request;
  request.set_service("");
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> watch = stub_->Watch(&context, request);
  HealthCheckResponse response;
  std::vector<int> seen;
  auto next = [&] {
    EXPECT_TRUE(watch->Read(&response));
    seen.push_back(response.status());
  };
  next();  // The current status on subscription.
  // Each step waits for its message before the next change: gRPC's Watch
  // keeps only the latest status while a write is in flight.
  publisher.Publish(Snapshot({true, true, true, true}, true));
  next();
  // Unchanged overall status (a listener flips): nothing for "".
  publisher.Publish(Snapshot({true, true, true, false}, true));
  publisher.Publish(Snapshot({true, false, true, false}, false));
  next();
  publisher.Publish(Snapshot({true, false, true, false}, false));  // Repeat: nothing.
  publisher.Publish(Snapshot({true, true, true, true}, true));
  next();
  HealthSnapshot drain = Snapshot({true, true, true, true}, false);
  drain.draining = true;
  publisher.Publish(drain);
  next();
  EXPECT_EQ(seen, (std::vector<int>{NOT_SERVING, SERVING, NOT_SERVING, SERVING, NOT_SERVING}));
  context.TryCancel();
}

TEST_F(GrpcHealthPublisherTest, WatchUnknownNameIsServiceUnknown) {
  GrpcHealthPublisher publisher(server_.health(), listeners_);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  HealthCheckRequest request;
  request.set_service("nope");
  auto watch = stub_->Watch(&context, request);
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVICE_UNKNOWN);
  context.TryCancel();
}

TEST_F(GrpcHealthPublisherTest, MonitorDrivesGrpcHealthEndToEnd) {
  std::vector<std::unique_ptr<testing::LoopbackResponder>> rtsp;
  HealthMonitorOptions options;
  for (int i = 0; i < 4; ++i) {
    auto r = testing::LoopbackResponder::Start(testing::LoopbackResponder::RtspOk());
    ASSERT_TRUE(r.ok());
    options.listeners.push_back({"rtsp-" + std::to_string(i), "127.0.0.1", (*r)->port()});
    rtsp.push_back(std::move(*r));
  }
  options.interval = absl::Milliseconds(100);
  options.timeout = absl::Milliseconds(200);
  options.log = nullptr;
  GrpcHealthPublisher publisher(server_.health(), options.listeners);
  auto monitor = HealthMonitor::Create(options, &publisher);
  ASSERT_TRUE(monitor.ok()) << monitor.status();
  EXPECT_EQ(Check(""), NOT_SERVING);  // Not started: no round yet.
  ASSERT_TRUE((*monitor)->Start().ok());
  ASSERT_TRUE((*monitor)->AwaitRound(1, absl::Seconds(5)));
  EXPECT_EQ(Check(""), SERVING);
  const std::string port0 = "rtsp:" + std::to_string(rtsp[0]->port());
  rtsp[0]->Close();
  ASSERT_TRUE((*monitor)->ProbeNow(absl::Seconds(5)).ok());
  EXPECT_EQ(Check(""), SERVING);
  EXPECT_EQ(Check(port0), NOT_SERVING);
  rtsp[1]->Close();
  ASSERT_TRUE((*monitor)->ProbeNow(absl::Seconds(5)).ok());
  EXPECT_EQ(Check(""), NOT_SERVING);
  EXPECT_EQ(Check("rtsp"), NOT_SERVING);
  ASSERT_TRUE(rtsp[0]->Reopen().ok());
  ASSERT_TRUE((*monitor)->ProbeNow(absl::Seconds(5)).ok());
  EXPECT_EQ(Check(""), SERVING);
  (*monitor)->SetDraining();
  EXPECT_EQ(Check(""), NOT_SERVING);
  EXPECT_EQ(Check("control"), NOT_SERVING);
  (*monitor)->Stop();
}

}  // namespace
}  // namespace rtsptest::health
