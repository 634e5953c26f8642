// HealthStatusRelay: statuses reach the attached health service, and a
// service attached later (the rebuilt server's) starts with all of them.
#include "control/grpc_server/health_status_relay.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace rtsptest::control {
namespace {

// Records what a grpc::Server's health service would be told.
class RecordingHealth : public grpc::HealthCheckServiceInterface {
 public:
  void SetServingStatus(const std::string& name, bool serving) override {
    statuses[name] = serving;
  }
  void SetServingStatus(bool serving) override {
    for (auto& [name, status] : statuses) status = serving;
  }
  void Shutdown() override { shut_down = true; }

  std::map<std::string, bool> statuses;
  bool shut_down = false;
};

TEST(HealthStatusRelayTest, ForwardsToTheAttachedService) {
  HealthStatusRelay relay;
  RecordingHealth first;
  relay.Attach(&first);
  relay.SetServingStatus("rtsp", true);
  relay.SetServingStatus("stream:/cam", false);
  EXPECT_EQ(first.statuses,
            (std::map<std::string, bool>{{"", true}, {"rtsp", true}, {"stream:/cam", false}}));
}

TEST(HealthStatusRelayTest, ReplaysEveryStatusOntoTheNextService) {
  HealthStatusRelay relay;
  RecordingHealth first;
  relay.Attach(&first);
  relay.SetServingStatus("rtsp", true);
  relay.Attach(nullptr);  // the server is being rebuilt
  relay.SetServingStatus("rtsp", false);
  relay.SetServingStatus("stream:/cam", true);
  RecordingHealth second;
  relay.Attach(&second);
  EXPECT_EQ(second.statuses,
            (std::map<std::string, bool>{{"", true}, {"rtsp", false}, {"stream:/cam", true}}));
  EXPECT_FALSE(second.shut_down);
  EXPECT_EQ(first.statuses["rtsp"], true);  // nothing reached the old one
}

TEST(HealthStatusRelayTest, AllServingStatusAppliesToEveryNameAndCarriesOver) {
  HealthStatusRelay relay;
  relay.SetServingStatus("rtsp", true);
  relay.SetServingStatus(false);
  RecordingHealth service;
  relay.Attach(&service);
  EXPECT_EQ(service.statuses, (std::map<std::string, bool>{{"", false}, {"rtsp", false}}));
}

TEST(HealthStatusRelayTest, ShutdownCarriesOverAndFreezesTheTable) {
  HealthStatusRelay relay;
  relay.SetServingStatus("rtsp", true);
  relay.Shutdown();
  relay.SetServingStatus("rtsp", true);
  RecordingHealth service;
  relay.Attach(&service);
  EXPECT_EQ(service.statuses, (std::map<std::string, bool>{{"", false}, {"rtsp", false}}));
  EXPECT_TRUE(service.shut_down);
}

}  // namespace
}  // namespace rtsptest::control
