// Tests of ParsePortList, the override table, OverridesFromEnvironment and
// ApplyOverrides.
#include "config/overrides.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/port_list/port_list.h"
#include "config/config_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct PortsCase {
  std::string text;
  std::vector<uint32_t> ports;
};

class ParsePortListTest : public ::testing::TestWithParam<PortsCase> {};

TEST_P(ParsePortListTest, Parses) {
  auto ports = common::ParsePortList(GetParam().text);
  ASSERT_TRUE(ports.ok()) << ports.status();
  EXPECT_EQ(*ports, GetParam().ports);
}

INSTANTIATE_TEST_SUITE_P(Lists, ParsePortListTest,
                         ::testing::Values(PortsCase{"8554", {8554}},
                                           PortsCase{"8554,8555,8556,8557",
                                                     {8554, 8555, 8556, 8557}},
                                           PortsCase{" 9000 , 9001", {9000, 9001}},
                                           PortsCase{"0,0", {0, 0}}, PortsCase{"65535", {65535}}));

struct PortsErrorCase {
  std::string text;
  std::string message;
};

class ParsePortListErrorTest : public ::testing::TestWithParam<PortsErrorCase> {};

TEST_P(ParsePortListErrorTest, Fails) {
  auto ports = common::ParsePortList(GetParam().text);
  EXPECT_EQ(ports.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(ports.status().message()), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Lists, ParsePortListErrorTest,
    ::testing::Values(PortsErrorCase{"", "the port list is empty"},
                      PortsErrorCase{"8554,,x", "item 2 is empty"},
                      PortsErrorCase{"8554,", "item 2 is empty"},
                      PortsErrorCase{"8554,x", "item 2: 'x' is not a port number"},
                      PortsErrorCase{"-1", "item 1: '-1' is not a port number"},
                      PortsErrorCase{"70000", "item 1: 70000 is out of range (0..65535)"},
                      PortsErrorCase{"99999999999999999999999",
                                     "item 1: 99999999999999999999999 is out of range (0..65535)"},
                      PortsErrorCase{"8554,8555,8554", "item 3: port 8554 is listed twice"}));

TEST(ParseLogLevelTest, AcceptsNamesCaseInsensitively) {
  EXPECT_EQ(*ParseLogLevel("debug"), v1::Logging::DEBUG);
  EXPECT_EQ(*ParseLogLevel("ERROR"), v1::Logging::ERROR);
  EXPECT_EQ(*ParseLogLevel("warn"), v1::Logging::WARNING);
  auto bad = ParseLogLevel("level_unspecified");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(bad.status().message()),
            "unknown log level 'level_unspecified' (expected one of: debug, info, warning, error)");
}

// Clears every RTSP_TEST_* variable around each test: tests share a process.
class EnvironmentTest : public ::testing::Test {
 protected:
  void SetUp() override { ClearAll(); }
  void TearDown() override { ClearAll(); }
  static void ClearAll() {
    unsetenv(kEnvConfig);
    for (const OverrideKnob& knob : OverrideKnobs()) unsetenv(knob.env);
  }
};

TEST_F(EnvironmentTest, NothingSetMeansNoOverrides) {
  auto overrides = OverridesFromEnvironment();
  ASSERT_TRUE(overrides.ok()) << overrides.status();
  EXPECT_FALSE(overrides->config_path.has_value());
  EXPECT_THAT(overrides->settings, IsEmpty());
}

TEST_F(EnvironmentTest, ReadsEveryVariable) {
  setenv("RTSP_TEST_CONFIG", "/etc/rtsp.yaml", 1);
  setenv("RTSP_TEST_RTSP_PORTS", "8554,8555,8556,8557", 1);
  setenv("RTSP_TEST_BIND", "::", 1);
  setenv("RTSP_TEST_PLUGIN_DIR", "/opt/a:/opt/b", 1);
  setenv("RTSP_TEST_LOG_LEVEL", "Debug", 1);
  setenv("RTSP_TEST_DRAIN_TIMEOUT", "1.5s", 1);
  auto overrides = OverridesFromEnvironment();
  ASSERT_TRUE(overrides.ok()) << overrides.status();
  EXPECT_EQ(overrides->config_path, "/etc/rtsp.yaml");
  v1::ServerConfig config;
  ApplyOverrides(*overrides, &config);
  ASSERT_EQ(config.listeners_size(), 4);
  EXPECT_EQ(config.listeners(3).port(), 8557u);
  EXPECT_EQ(config.listeners(0).bind_address(), "::");
  EXPECT_THAT(config.plugin_dirs(), ElementsAre("/opt/a", "/opt/b"));
  EXPECT_EQ(config.logging().level(), v1::Logging::DEBUG);
  EXPECT_EQ(config.drain_timeout().seconds(), 1);
  EXPECT_EQ(config.drain_timeout().nanos(), 500000000);
}

TEST_F(EnvironmentTest, ReadsHealthAndControlVariables) {
  setenv("RTSP_TEST_GRPC_PORT", "50052", 1);
  setenv("RTSP_TEST_GRPC_BIND", "127.0.0.1", 1);
  setenv("RTSP_TEST_MIN_HEALTHY", "2", 1);
  setenv("RTSP_TEST_PROBE_INTERVAL", "500ms", 1);
  setenv("RTSP_TEST_PROBE_TIMEOUT", "1", 1);
  setenv("RTSP_TEST_DEEP_CHECK", "TRUE", 1);
  setenv("RTSP_TEST_STALL_TIMEOUT", "750ms", 1);
  setenv("RTSP_TEST_REQUIRE_LIVE_STREAMS", "true", 1);
  auto overrides = OverridesFromEnvironment();
  ASSERT_TRUE(overrides.ok()) << overrides.status();

  v1::ServerConfig config = BuiltInServerConfig();
  ApplyOverrides(*overrides, &config);
  EXPECT_EQ(config.control().port(), 50052u);
  EXPECT_EQ(config.control().bind_address(), "127.0.0.1");
  EXPECT_EQ(config.health().min_healthy_listeners(), 2u);
  EXPECT_EQ(config.health().probe_interval().nanos(), 500000000);
  EXPECT_EQ(config.health().probe_timeout().seconds(), 1);
  EXPECT_TRUE(config.health().deep_check());
  EXPECT_EQ(config.health().stall_timeout().nanos(), 750000000);
  EXPECT_TRUE(config.health().require_live_streams());
}

TEST_F(EnvironmentTest, EmptyVariableCountsAsUnset) {
  setenv("RTSP_TEST_RTSP_PORTS", "", 1);
  setenv("RTSP_TEST_BIND", "", 1);
  auto overrides = OverridesFromEnvironment();
  ASSERT_TRUE(overrides.ok()) << overrides.status();
  EXPECT_EQ(overrides->Find("rtsp_ports"), nullptr);
  EXPECT_EQ(overrides->Find("bind"), nullptr);
}

struct EnvErrorCase {
  const char* name;
  const char* value;
  std::string message;
};

class EnvironmentErrorTest : public EnvironmentTest,
                             public ::testing::WithParamInterface<EnvErrorCase> {};

TEST_P(EnvironmentErrorTest, NamesVariableAndValue) {
  setenv(GetParam().name, GetParam().value, 1);
  auto overrides = OverridesFromEnvironment();
  EXPECT_EQ(overrides.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(overrides.status().message()), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Variables, EnvironmentErrorTest,
    ::testing::Values(
        EnvErrorCase{"RTSP_TEST_RTSP_PORTS", "8554,,x",
                     "RTSP_TEST_RTSP_PORTS='8554,,x': item 2 is empty"},
        EnvErrorCase{"RTSP_TEST_RTSP_PORTS", "8554,8554",
                     "RTSP_TEST_RTSP_PORTS='8554,8554': item 2: port 8554 is listed twice"},
        EnvErrorCase{"RTSP_TEST_PLUGIN_DIR", "/a::/b",
                     "RTSP_TEST_PLUGIN_DIR='/a::/b': item 2 is empty"},
        EnvErrorCase{"RTSP_TEST_LOG_LEVEL", "loud",
                     "RTSP_TEST_LOG_LEVEL='loud': unknown log level 'loud' (expected one of: "
                     "debug, info, warning, error)"},
        EnvErrorCase{"RTSP_TEST_DRAIN_TIMEOUT", "soon",
                     "RTSP_TEST_DRAIN_TIMEOUT='soon': invalid duration 'soon' (expected e.g. "
                     "\"2s\", \"500ms\", \"1.5s\", \"1m\" or a number of seconds)"},
        EnvErrorCase{"RTSP_TEST_DRAIN_TIMEOUT", "2h",
                     "RTSP_TEST_DRAIN_TIMEOUT='2h': out of range (0s..1h)"},
        EnvErrorCase{"RTSP_TEST_GRPC_PORT", "70000",
                     "RTSP_TEST_GRPC_PORT='70000': '70000' is not a whole number in 0..65535"},
        EnvErrorCase{"RTSP_TEST_MIN_HEALTHY", "-1",
                     "RTSP_TEST_MIN_HEALTHY='-1': '-1' is not a whole number in 0..65535"},
        EnvErrorCase{"RTSP_TEST_DEEP_CHECK", "maybe",
                     "RTSP_TEST_DEEP_CHECK='maybe': 'maybe' is not true or false"},
        EnvErrorCase{"RTSP_TEST_REQUIRE_LIVE_STREAMS", "yes",
                     "RTSP_TEST_REQUIRE_LIVE_STREAMS='yes': 'yes' is not true or false"}));

// Four listeners 8554..8557 and streams that name some of them.
v1::ServerConfig ConfigWithStreams() {
  v1::ServerConfig config = BuiltInServerConfig();
  config.mutable_listeners(1)->set_name("front");
  v1::Stream* all = config.add_streams();
  all->set_path("/all");
  v1::Stream* some = config.add_streams();
  some->set_path("/some");
  some->add_listeners("front");
  some->add_listeners("rtsp-8557");
  return config;
}

TEST(ApplyOverridesTest, SamePortCountChangesPortsInOrderAndRenamesDefaults) {
  v1::ServerConfig config = ConfigWithStreams();
  ConfigOverrides overrides;
  ASSERT_TRUE(overrides.Set("rtsp_ports", OverrideSource::kFlag, "9000,9001,9002,9003").ok());
  ApplyOverrides(overrides, &config);
  ASSERT_EQ(config.listeners_size(), 4);
  EXPECT_EQ(config.listeners(0).name(), "rtsp-9000");
  EXPECT_EQ(config.listeners(0).port(), 9000u);
  EXPECT_EQ(config.listeners(1).name(), "front");  // a chosen name stays
  EXPECT_EQ(config.listeners(1).port(), 9001u);
  EXPECT_EQ(config.listeners(3).name(), "rtsp-9003");
  EXPECT_THAT(config.streams(0).listeners(), IsEmpty());
  EXPECT_THAT(config.streams(1).listeners(), ElementsAre("front", "rtsp-9003"));
}

TEST(ApplyOverridesTest, SwappedPortsRenameWithoutChaining) {
  v1::ServerConfig config;
  config.add_listeners()->set_port(8554);  // unnamed: known as rtsp-8554
  config.add_listeners()->set_port(8555);
  config.add_streams()->add_listeners("rtsp-8554");
  ConfigOverrides overrides;
  ASSERT_TRUE(overrides.Set("rtsp_ports", OverrideSource::kFlag, "8555,8554").ok());
  ApplyOverrides(overrides, &config);
  EXPECT_EQ(config.listeners(0).name(), "rtsp-8555");
  EXPECT_EQ(config.listeners(1).name(), "rtsp-8554");
  EXPECT_THAT(config.streams(0).listeners(), ElementsAre("rtsp-8555"));
}

TEST(ApplyOverridesTest, OtherPortCountReplacesListenersAndServesStreamsEverywhere) {
  v1::ServerConfig config = ConfigWithStreams();
  for (auto& listener : *config.mutable_listeners()) listener.set_bind_address("127.0.0.1");
  ConfigOverrides overrides;
  ASSERT_TRUE(overrides.Set("rtsp_ports", OverrideSource::kFlag, "7000,7001").ok());
  ApplyOverrides(overrides, &config);
  ASSERT_EQ(config.listeners_size(), 2);
  EXPECT_EQ(config.listeners(0).name(), "rtsp-7000");
  EXPECT_EQ(config.listeners(0).port(), 7000u);
  EXPECT_EQ(config.listeners(0).bind_address(), "127.0.0.1");  // shared: kept
  EXPECT_EQ(config.listeners(1).name(), "rtsp-7001");
  EXPECT_THAT(config.streams(1).listeners(), IsEmpty());
}

TEST(ApplyOverridesTest, OtherPortCountDropsMixedBindAddresses) {
  v1::ServerConfig config = ConfigWithStreams();
  config.mutable_listeners(0)->set_bind_address("127.0.0.1");
  ConfigOverrides overrides;
  ASSERT_TRUE(overrides.Set("rtsp_ports", OverrideSource::kFlag, "7000").ok());
  ApplyOverrides(overrides, &config);
  ASSERT_EQ(config.listeners_size(), 1);
  EXPECT_EQ(config.listeners(0).bind_address(), "");  // ApplyDefaults: 0.0.0.0
}

TEST(ApplyOverridesTest, SetsBindPluginDirsLevelAndDrain) {
  v1::ServerConfig config = ConfigWithStreams();
  config.add_plugin_dirs("/from/file");
  ConfigOverrides overrides;
  ASSERT_TRUE(overrides.Set("bind", OverrideSource::kFlag, "::1").ok());
  ASSERT_TRUE(overrides.Set("plugin_dir", OverrideSource::kFlag, "/x,/y").ok());
  ASSERT_TRUE(overrides.Set("log_level", OverrideSource::kFlag, "error").ok());
  ASSERT_TRUE(overrides.Set("drain_timeout", OverrideSource::kFlag, "2500ms").ok());
  ApplyOverrides(overrides, &config);
  for (const auto& listener : config.listeners()) EXPECT_EQ(listener.bind_address(), "::1");
  EXPECT_THAT(config.plugin_dirs(), ElementsAre("/x", "/y"));
  EXPECT_EQ(config.logging().level(), v1::Logging::ERROR);
  EXPECT_EQ(config.drain_timeout().seconds(), 2);
  EXPECT_EQ(config.drain_timeout().nanos(), 500000000);
}

TEST(ApplyOverridesTest, BindAlsoBindsTheGrpcPort) {
  v1::ServerConfig config = ConfigWithStreams();
  config.mutable_control()->set_bind_address("0.0.0.0");
  ConfigOverrides overrides;
  ASSERT_TRUE(overrides.Set("bind", OverrideSource::kFlag, "127.0.0.1").ok());
  ApplyOverrides(overrides, &config);
  EXPECT_EQ(config.control().bind_address(), "127.0.0.1");
}

TEST(ApplyOverridesTest, GrpcBindWinsOverBindForTheGrpcPort) {
  v1::ServerConfig config = ConfigWithStreams();
  ConfigOverrides overrides;
  ASSERT_TRUE(overrides.Set("bind", OverrideSource::kFlag, "127.0.0.1").ok());
  ASSERT_TRUE(overrides.Set("grpc_bind", OverrideSource::kFlag, "0.0.0.0").ok());
  ApplyOverrides(overrides, &config);
  for (const auto& listener : config.listeners()) EXPECT_EQ(listener.bind_address(), "127.0.0.1");
  EXPECT_EQ(config.control().bind_address(), "0.0.0.0");
}

TEST(ApplyOverridesTest, EmptyOverridesChangeNothing) {
  v1::ServerConfig config = ConfigWithStreams();
  v1::ServerConfig before = config;
  ApplyOverrides(ConfigOverrides{}, &config);
  EXPECT_EQ(config.SerializeAsString(), before.SerializeAsString());
}

}  // namespace
}  // namespace rtsptest::config
