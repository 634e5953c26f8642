// Tests of LoadServerConfig: the shipped default.yaml, JSON, files, and the
// precedence flag > environment > file > built-in default.
#include "config/config_loader.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

std::string DefaultYamlPath() {
  return absl::StrCat(std::getenv("TEST_SRCDIR"), "/rtsp_test_server/config/default.yaml");
}

// Writes `contents` to a fresh file under TEST_TMPDIR and returns its path.
std::string WriteTempFile(const std::string& name, const std::string& contents) {
  std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  FILE* file = std::fopen(path.c_str(), "w");
  EXPECT_NE(file, nullptr) << path;
  std::fwrite(contents.data(), 1, contents.size(), file);
  std::fclose(file);
  return path;
}

ConfigOverrides WithPath(const std::string& path) {
  ConfigOverrides overrides;
  overrides.config_path = path;
  return overrides;
}

TEST(LoadServerConfigTest, DefaultYamlLoadsAndValidates) {
  auto config = LoadServerConfig(WithPath(DefaultYamlPath()), ConfigOverrides{});
  ASSERT_TRUE(config.ok()) << config.status();

  ASSERT_EQ(config->listeners_size(), 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(config->listeners(i).port(), 8554u + i);
    EXPECT_EQ(config->listeners(i).name(), absl::StrCat("rtsp-", 8554 + i));
    EXPECT_EQ(config->listeners(i).bind_address(), "0.0.0.0");
  }

  std::map<std::string, std::string> codecs;
  for (const v1::Stream& stream : config->streams()) {
    EXPECT_EQ(stream.plugin(), "testpattern") << stream.path();
    codecs[stream.path()] = stream.parameters().at("codec");
    if (stream.path() == "/cam4") {
      EXPECT_THAT(stream.listeners(), ElementsAre("rtsp-8557"));
    } else {
      EXPECT_THAT(stream.listeners(), IsEmpty()) << stream.path();
    }
  }
  EXPECT_EQ(codecs, (std::map<std::string, std::string>{{"/cam1", "h264"},
                                                        {"/cam2", "h265"},
                                                        {"/cam3", "mjpeg"},
                                                        {"/cam4", "h264"},
                                                        {"/lobby", "h264"}}));
  const auto& cam1 = config->streams(0).parameters();
  EXPECT_EQ(cam1.at("width"), "1280");
  EXPECT_EQ(cam1.at("height"), "720");
  EXPECT_EQ(cam1.at("fps"), "30");
  EXPECT_EQ(cam1.at("overlay"), "true");
  EXPECT_EQ(cam1.at("audio"), "opus");
  EXPECT_EQ(config->drain_timeout().seconds(), 10);
  EXPECT_EQ(config->logging().level(), v1::Logging::INFO);
}

// JSON is YAML: the default config written as JSON (with lowerCamelCase
// names, as protobuf's own JSON printer writes them) loads to the same proto.
TEST(LoadServerConfigTest, JsonEquivalentOfDefaultLoadsTheSame) {
  auto from_yaml = LoadServerConfig(WithPath(DefaultYamlPath()), ConfigOverrides{});
  ASSERT_TRUE(from_yaml.ok()) << from_yaml.status();
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(*from_yaml, &json, options).ok());
  ASSERT_THAT(json, HasSubstr("\"bindAddress\""));

  auto from_json =
      LoadServerConfig(WithPath(WriteTempFile("default.json", json)), ConfigOverrides{});
  ASSERT_TRUE(from_json.ok()) << from_json.status() << "\n" << json;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*from_yaml, *from_json))
      << from_json->DebugString();
}

TEST(LoadServerConfigTest, NoFileGivesBuiltInListenersAndNoStreams) {
  auto config = LoadServerConfig(ConfigOverrides{}, ConfigOverrides{});
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->listeners_size(), 4);
  EXPECT_EQ(config->listeners(0).name(), "rtsp-8554");
  EXPECT_EQ(config->listeners(3).port(), 8557u);
  EXPECT_EQ(config->streams_size(), 0);
  EXPECT_EQ(config->drain_timeout().seconds(), 10);
}

TEST(LoadServerConfigTest, FileWithoutListenersGetsBuiltInListeners) {
  std::string path = WriteTempFile("streams_only.yaml", "streams: [{path: /a, plugin: x}]\n");
  auto config = LoadServerConfig(WithPath(path), ConfigOverrides{});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listeners_size(), 4);
  EXPECT_EQ(config->streams_size(), 1);
}

TEST(LoadServerConfigTest, MissingFileIsNotFound) {
  std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/no/such.yaml");
  auto config = LoadServerConfig(WithPath(path), ConfigOverrides{});
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(config.status().message()), HasSubstr(path));
}

TEST(LoadServerConfigTest, MissingFileFromEnvironmentIsNotFound) {
  auto config = LoadServerConfig(ConfigOverrides{}, WithPath("/nonexistent/rtsp.yaml"));
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
}

TEST(LoadServerConfigTest, FlagPathWinsOverEnvironmentPath) {
  std::string path = WriteTempFile("flag.yaml", "listeners: [{port: 7000}]\n");
  auto config = LoadServerConfig(WithPath(path), WithPath("/nonexistent/rtsp.yaml"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listeners(0).port(), 7000u);
}

TEST(LoadServerConfigTest, FlagBeatsEnvironmentBeatsFile) {
  std::string path = WriteTempFile("precedence.yaml", R"(
listeners: [{port: 8554}]
plugin_dirs: [/file]
logging: {level: warning}
drain_timeout: 5s
)");
  ConfigOverrides env;
  ASSERT_TRUE(env.Set("plugin_dir", OverrideSource::kEnvironment, "/env").ok());
  ASSERT_TRUE(env.Set("log_level", OverrideSource::kEnvironment, "debug").ok());
  ASSERT_TRUE(env.Set("drain_timeout", OverrideSource::kEnvironment, "20s").ok());
  ASSERT_TRUE(env.Set("bind", OverrideSource::kEnvironment, "127.0.0.1").ok());
  ConfigOverrides flags = WithPath(path);
  ASSERT_TRUE(flags.Set("drain_timeout", OverrideSource::kFlag, "30s").ok());
  ASSERT_TRUE(flags.Set("rtsp_ports", OverrideSource::kFlag, "9000").ok());

  auto config = LoadServerConfig(flags, env);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->drain_timeout().seconds(), 30);             // flag
  EXPECT_EQ(config->logging().level(), v1::Logging::DEBUG);     // env
  EXPECT_THAT(config->plugin_dirs(), ElementsAre("/env"));      // env
  EXPECT_EQ(config->listeners(0).bind_address(), "127.0.0.1");  // env
  EXPECT_EQ(config->listeners(0).port(), 9000u);                // flag
  EXPECT_EQ(config->listeners(0).name(), "rtsp-9000");
}

TEST(LoadServerConfigTest, PortOverrideOfDefaultYamlKeepsRestrictedStream) {
  ConfigOverrides env;
  ASSERT_TRUE(env.Set("rtsp_ports", OverrideSource::kEnvironment, "18554,18555,18556,18557").ok());
  auto config = LoadServerConfig(WithPath(DefaultYamlPath()), env);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listeners(3).name(), "rtsp-18557");
  for (const v1::Stream& stream : config->streams()) {
    if (stream.path() == "/cam4") {
      EXPECT_THAT(stream.listeners(), ElementsAre("rtsp-18557"));
    }
  }
}

TEST(LoadServerConfigTest, ParseErrorNamesFileLineAndColumn) {
  std::string path =
      WriteTempFile("typo.yaml", "listeners:\n  - port: 8554\n    bnd_address: 127.0.0.1\n");
  auto config = LoadServerConfig(WithPath(path), ConfigOverrides{});
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(config.status().message()),
            absl::StrCat(path,
                         ":3:5: listeners[0].bnd_address: unknown field (did you mean "
                         "\"bind_address\"?)"));
}

TEST(LoadServerConfigTest, ValidationErrorNamesFileLineAndColumn) {
  std::string path = WriteTempFile("range.yaml", "listeners:\n  - port: 8554\n  - port: 70000\n");
  auto config = LoadServerConfig(WithPath(path), ConfigOverrides{});
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(config.status().message()),
            absl::StrCat(path, ":3:11: listeners[1].port: 70000 is out of range (0..65535)"));
}

TEST(LoadServerConfigTest, ErrorInOverriddenValueDoesNotBlameTheFile) {
  std::string path = WriteTempFile("bind.yaml", "listeners:\n  - bind_address: 127.0.0.1\n");
  ConfigOverrides flags = WithPath(path);
  // A setting with no origin: the error then names no source, and never the file.
  flags.settings.push_back({FindOverrideKnob("bind"), OverrideSource::kFlag, "localhost", ""});
  auto config = LoadServerConfig(flags, ConfigOverrides{});
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()),
              StartsWith("listeners[0].bind_address: 'localhost'"));
}

// An error about a value names where the value came from.
constexpr char kTwoListenersK1[] = R"(listeners:
  - {name: a, port: 8554}
  - {name: b, port: 8555}
health: {min_healthy_listeners: 1}
)";
constexpr char kKTooLarge[] = "health.min_healthy_listeners: 9 is more than the 2 listeners";

TEST(LoadServerConfigTest, ErrorAboutAValueFromTheFileNamesItsPosition) {
  std::string path =
      WriteTempFile("k9.yaml", absl::StrReplaceAll(kTwoListenersK1, {{": 1}", ": 9}"}}));
  auto config = LoadServerConfig(WithPath(path), ConfigOverrides{});
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(config.status().message()), absl::StrCat(path, ":4:33: ", kKTooLarge));
}

TEST(LoadServerConfigTest, ErrorAboutAValueFromTheEnvironmentNamesTheVariable) {
  std::string path = WriteTempFile("k1_env.yaml", kTwoListenersK1);
  setenv("RTSP_TEST_MIN_HEALTHY", "9", 1);
  absl::StatusOr<ConfigOverrides> env = OverridesFromEnvironment();
  unsetenv("RTSP_TEST_MIN_HEALTHY");
  ASSERT_TRUE(env.ok()) << env.status();
  auto config = LoadServerConfig(WithPath(path), *env);
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(config.status().message()),
            absl::StrCat("RTSP_TEST_MIN_HEALTHY=9: ", kKTooLarge));
}

TEST(LoadServerConfigTest, ErrorAboutAValueFromAFlagNamesTheFlag) {
  std::string path = WriteTempFile("k1_flag.yaml", kTwoListenersK1);
  ConfigOverrides env;
  ASSERT_TRUE(env.Set("min_healthy_listeners", OverrideSource::kEnvironment, "2").ok());
  ConfigOverrides flags = WithPath(path);
  ASSERT_TRUE(flags.Set("min_healthy_listeners", OverrideSource::kFlag, "9").ok());
  auto config = LoadServerConfig(flags, env);
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(config.status().message()),
            absl::StrCat("--min_healthy_listeners=9: ", kKTooLarge));
}

TEST(LoadServerConfigTest, ErrorAboutAnAddressFromTheEnvironmentNamesTheVariable) {
  setenv("RTSP_TEST_BIND", "localhost", 1);
  absl::StatusOr<ConfigOverrides> env = OverridesFromEnvironment();
  unsetenv("RTSP_TEST_BIND");
  ASSERT_TRUE(env.ok()) << env.status();
  auto config = LoadServerConfig(ConfigOverrides{}, *env);
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()),
              StartsWith("RTSP_TEST_BIND=localhost: listeners[0].bind_address: 'localhost'"));
}

TEST(LoadServerConfigTest, ReferenceToUnknownListenerIsReported) {
  std::string path = WriteTempFile("refs.yaml", R"(
listeners: [{port: 8554}, {port: 8555}]
streams:
  - {path: /a, plugin: testpattern}
  - path: /b
    plugin: testpattern
    listeners: [rtsp-9999]
)");
  auto config = LoadServerConfig(WithPath(path), ConfigOverrides{});
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(config.status().message()),
            absl::StrCat(path,
                         ":7:17: streams[1].listeners[0]: no listener named 'rtsp-9999' "
                         "(have: rtsp-8554, rtsp-8555)"));
}

TEST(ParseServerConfigTest, SyntaxErrorIsInvalidArgument) {
  auto config = ParseServerConfig("listeners: [{port: 1}\n", "broken.yaml");
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()), StartsWith("broken.yaml:"));
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("YAML syntax error"));
}

}  // namespace
}  // namespace rtsptest::config
