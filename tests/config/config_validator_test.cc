// Tests of ApplyDefaults and ConfigValidator: semantic checks of ServerConfig.
#include "config/config_validator.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "config/config_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::config {
namespace {

// Parses `yaml`, applies defaults and validates, without source positions.
absl::Status ValidateText(const std::string& yaml) {
  absl::StatusOr<v1::ServerConfig> config = ParseServerConfig(yaml, "config.yaml");
  if (!config.ok()) return config.status();
  ApplyDefaults(&*config);
  return ConfigValidator().Validate(*config);
}

TEST(ApplyDefaultsTest, FillsNamesAddressesDrainAndLevel) {
  v1::ServerConfig config;
  config.add_listeners()->set_port(8554);
  config.add_listeners()->set_port(0);
  config.add_listeners()->set_port(0);
  ApplyDefaults(&config);
  EXPECT_EQ(config.listeners(0).name(), "rtsp-8554");
  EXPECT_EQ(config.listeners(1).name(), "rtsp-ephemeral-1");
  EXPECT_EQ(config.listeners(2).name(), "rtsp-ephemeral-2");
  EXPECT_EQ(config.listeners(0).bind_address(), "0.0.0.0");
  EXPECT_EQ(config.drain_timeout().seconds(), 10);
  EXPECT_EQ(config.logging().level(), v1::Logging::INFO);
  EXPECT_TRUE(ConfigValidator().Validate(config).ok());
}

TEST(ApplyDefaultsTest, FillsHealthTimingsAndControlPort) {
  v1::ServerConfig config;
  config.add_listeners()->set_port(8554);
  ApplyDefaults(&config);
  EXPECT_EQ(config.health().probe_interval().seconds(), 2);
  EXPECT_EQ(config.health().probe_timeout().seconds(), 2);
  EXPECT_EQ(config.health().min_healthy_listeners(), 0u);  // 0 = ceil(0.75 n)
  EXPECT_EQ(config.control().port(), 50051u);
  EXPECT_EQ(config.control().bind_address(), "0.0.0.0");
}

TEST(ApplyDefaultsTest, KeepsExplicitEphemeralControlPort) {
  v1::ServerConfig config;
  config.mutable_control()->set_port(0);
  ApplyDefaults(&config);
  EXPECT_EQ(config.control().port(), 0u);
}

TEST(ValidateHealthTest, RejectsMoreHealthyListenersThanListeners) {
  absl::Status status =
      ValidateText("listeners: [{port: 1}, {port: 2}]\nhealth: {min_healthy_listeners: 3}");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "health.min_healthy_listeners: 3 is more than the 2 listeners");
}

TEST(ValidateHealthTest, RejectsZeroProbeInterval) {
  absl::Status status = ValidateText("listeners: [{port: 1}]\nhealth: {probe_interval: 0s}");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              ::testing::HasSubstr("health.probe_interval: 0 must be in"));
}

// Below the minimums a probe round would open connections without pause,
// or could never complete.
TEST(ValidateHealthTest, RejectsProbeTimingsBelowTheirMinimums) {
  EXPECT_EQ(ValidateText("listeners: [{port: 1}]\nhealth: {probe_interval: 1ns}").message(),
            "health.probe_interval: 1ns must be in [100ms, 1m]");
  EXPECT_EQ(ValidateText("listeners: [{port: 1}]\nhealth: {probe_timeout: 1ms}").message(),
            "health.probe_timeout: 1ms must be in [10ms, 1m]");
  EXPECT_TRUE(
      ValidateText("listeners: [{port: 1}]\nhealth: {probe_interval: 100ms, probe_timeout: 10ms}")
          .ok());
}

// A config with one listener, defaults applied, and a stream valid on it.
v1::ServerConfig OneListenerConfig() {
  v1::ServerConfig config;
  config.add_listeners()->set_port(1);
  ApplyDefaults(&config);
  return config;
}

v1::Stream CameraStream() {
  v1::Stream stream;
  stream.set_path("/cam");
  stream.set_plugin("testpattern");
  return stream;
}

// Protobuf strings must be UTF-8, or no answer carrying the stream (health
// reports included) could be serialized.
TEST(ValidateStreamTest, RejectsInvalidUtf8InDescriptionAndParameters) {
  const v1::ServerConfig config = OneListenerConfig();
  v1::Stream stream = CameraStream();
  stream.set_description("caf\xc3");  // a truncated two-byte sequence
  EXPECT_EQ(ConfigValidator().ValidateStream(config, stream, "stream").message(),
            "stream.description: 'caf\\xc3' is not valid UTF-8");
  stream.set_description("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xa5");  // café € 🎥
  EXPECT_TRUE(ConfigValidator().ValidateStream(config, stream, "stream").ok());
  (*stream.mutable_parameters())["pattern"] = "\xed\xa0\x80";  // a UTF-16 surrogate
  EXPECT_EQ(ConfigValidator().ValidateStream(config, stream, "stream").message(),
            "stream.parameters: 'pattern': not valid UTF-8");
}

// A YAML alias or a generated config cannot blow every health report up
// past what gRPC clients accept: sizes are bounded, and the error says which
// bound.
TEST(ValidateStreamTest, RejectsOversizedFields) {
  const v1::ServerConfig config = OneListenerConfig();
  v1::Stream stream = CameraStream();
  stream.set_description(std::string(4097, 'd'));
  EXPECT_EQ(ConfigValidator().ValidateStream(config, stream, "stream").message(),
            "stream.description: 4097 bytes; at most 4096");
  stream.set_description(std::string(4096, 'd'));
  EXPECT_TRUE(ConfigValidator().ValidateStream(config, stream, "stream").ok());
  stream.set_path("/" + std::string(1024, 'p'));
  EXPECT_EQ(ConfigValidator().ValidateStream(config, stream, "stream").message(),
            "stream.path: 1025 bytes; at most 1024");
  stream.set_path("/cam");
  (*stream.mutable_parameters())["pattern"] = std::string(16385, 'v');
  EXPECT_EQ(ConfigValidator().ValidateStream(config, stream, "stream").message(),
            "stream.parameters: 'pattern': name 7 bytes, value 16385 bytes; at most 128 and 16384");
  stream.mutable_parameters()->clear();
  for (int i = 0; i < 65; ++i) (*stream.mutable_parameters())[absl::StrCat("p", i)] = "v";
  EXPECT_EQ(ConfigValidator().ValidateStream(config, stream, "stream").message(),
            "stream.parameters: 65 parameters; at most 64");
}

TEST(ValidateStreamsTest, RejectsMoreThanAThousandStreams) {
  std::string text = "listeners: [{port: 1}]\nstreams:\n";
  for (int i = 0; i < 1001; ++i)
    absl::StrAppend(&text, "  - {path: /c", i, ", plugin: testpattern}\n");
  EXPECT_EQ(ValidateText(text).message(), "streams: 1001 streams; at most 1000");
}

TEST(ApplyDefaultsTest, StallTimeoutIsTwoSecondsAndStreamsAreNotRequiredLive) {
  v1::ServerConfig config;
  config.add_listeners()->set_port(8554);
  ApplyDefaults(&config);
  EXPECT_EQ(config.health().stall_timeout().seconds(), 2);
  EXPECT_EQ(config.health().stall_timeout().nanos(), 0);
  EXPECT_FALSE(config.health().require_live_streams());
}

TEST(ValidateHealthTest, AcceptsStallTimeoutAndRequireLiveStreamsFromYaml) {
  absl::StatusOr<v1::ServerConfig> config = ParseServerConfig(
      "listeners: [{port: 1}]\nhealth: {stall_timeout: 500ms, require_live_streams: true}",
      "config.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  ApplyDefaults(&*config);
  EXPECT_TRUE(ConfigValidator().Validate(*config).ok());
  EXPECT_EQ(config->health().stall_timeout().nanos(), 500000000);
  EXPECT_TRUE(config->health().require_live_streams());
}

TEST(ValidateHealthTest, RejectsStallTimeoutBelow100ms) {
  absl::Status status = ValidateText("listeners: [{port: 1}]\nhealth: {stall_timeout: 50ms}");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "health.stall_timeout: 50ms must be in [100ms, 1m]");
}

TEST(ValidateHealthTest, RejectsStallTimeoutAboveAMinute) {
  absl::Status status = ValidateText("listeners: [{port: 1}]\nhealth: {stall_timeout: 61s}");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "health.stall_timeout: 1m1s must be in [100ms, 1m]");
}

TEST(ValidateHealthTest, RejectsControlPortOutOfRange) {
  absl::Status status = ValidateText("listeners: [{port: 1}]\ncontrol: {port: 70000}");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("control.port"));
}

TEST(ApplyDefaultsTest, KeepsExplicitZeroDrainTimeout) {
  v1::ServerConfig config;
  config.mutable_drain_timeout()->set_seconds(0);
  ApplyDefaults(&config);
  EXPECT_EQ(config.drain_timeout().seconds(), 0);
}

struct ValidCase {
  std::string name;
  std::string yaml;
};

class ValidConfigTest : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ValidConfigTest, Passes) {
  absl::Status status = ValidateText(GetParam().yaml);
  EXPECT_TRUE(status.ok()) << status;
}

INSTANTIATE_TEST_SUITE_P(
    Configs, ValidConfigTest,
    ::testing::Values(
        ValidCase{"OneListener", "listeners: [{port: 8554}]"},
        ValidCase{"SamePortOnTwoAddresses",
                  "listeners: [{name: a, bind_address: 127.0.0.1, port: 8554},"
                  " {name: b, bind_address: '::1', port: 8554}]"},
        ValidCase{"EphemeralPortsRepeat", "listeners: [{port: 0}, {port: 0}]"},
        ValidCase{"StreamOnNamedListener",
                  "listeners: [{port: 8554}, {port: 8555}]\n"
                  "streams: [{path: /cam1, plugin: testpattern, listeners: [rtsp-8555]}]"},
        ValidCase{"DrainAtMaximum", "listeners: [{port: 1}]\ndrain_timeout: 1h"},
        ValidCase{"PluginNameCharacters",
                  "listeners: [{port: 1}]\nstreams: [{path: /a, plugin: my_plugin-2}]"}),
    [](const ::testing::TestParamInfo<ValidCase>& info) { return info.param.name; });

struct ErrorCase {
  std::string name;
  std::string yaml;
  std::string message;
};

class InvalidConfigTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(InvalidConfigTest, FailsWithPathAndValue) {
  absl::Status status = ValidateText(GetParam().yaml);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Configs, InvalidConfigTest,
    ::testing::Values(
        ErrorCase{"NoListeners", "listeners: []", "listeners: at least one listener is required"},
        ErrorCase{"PortOutOfRange", "listeners: [{port: 8554}, {port: 70000}]",
                  "listeners[1].port: 70000 is out of range (0..65535)"},
        ErrorCase{"DuplicateName", "listeners: [{name: a, port: 1}, {name: a, port: 2}]",
                  "listeners[1].name: duplicate listener name 'a' (also listeners[0])"},
        ErrorCase{"DuplicateDefaultName",
                  "listeners: [{bind_address: 127.0.0.1, port: 8554}, {port: 8554}]",
                  "listeners[1].name: duplicate listener name 'rtsp-8554' (also listeners[0])"},
        ErrorCase{"BadListenerName", "listeners: [{name: 'front door', port: 1}]",
                  "listeners[0].name: 'front door' is not a valid listener name (use letters, "
                  "digits, '-', '_' and '.')"},
        ErrorCase{"HostNameAsBindAddress", "listeners: [{bind_address: localhost, port: 1}]",
                  "listeners[0].bind_address: 'localhost' is not an IPv4 or IPv6 address (host "
                  "names are not resolved; use e.g. 0.0.0.0, 127.0.0.1 or ::)"},
        ErrorCase{"DuplicateEndpointDifferentSpelling",
                  "listeners: [{name: a, bind_address: '::', port: 8554},"
                  " {name: b, bind_address: '0:0::0', port: 8554}]",
                  "listeners[1].port: [0:0::0]:8554 is already used by listeners[0] ('a')"},
        ErrorCase{"PathWithoutSlash", "listeners: [{port: 1}]\nstreams: [{path: cam1, plugin: x}]",
                  "streams[0].path: 'cam1' must start with '/'"},
        ErrorCase{"EmptyPath", "listeners: [{port: 1}]\nstreams: [{plugin: x}]",
                  "streams[0].path: is empty (expected e.g. /cam1)"},
        ErrorCase{"PathWithSpace",
                  "listeners: [{port: 1}]\nstreams: [{path: '/my cam', plugin: x}]",
                  "streams[0].path: '/my cam' must not contain spaces, control characters, '?' "
                  "or '#'"},
        ErrorCase{"PathWithQuery", "listeners: [{port: 1}]\nstreams: [{path: '/a?b=1', plugin: x}]",
                  "streams[0].path: '/a?b=1' must not contain spaces, control characters, '?' "
                  "or '#'"},
        ErrorCase{"DuplicatePath",
                  "listeners: [{port: 1}]\n"
                  "streams: [{path: /a, plugin: x}, {path: /b, plugin: x}, {path: /a, plugin: y}]",
                  "streams[2].path: duplicate path '/a' (also streams[0])"},
        ErrorCase{"EmptyPlugin", "listeners: [{port: 1}]\nstreams: [{path: /a}]",
                  "streams[0].plugin: is empty (name the plugin that serves this stream, e.g. "
                  "testpattern)"},
        ErrorCase{"PluginWithCapitals",
                  "listeners: [{port: 1}]\nstreams: [{path: /a, plugin: TestPattern}]",
                  "streams[0].plugin: 'TestPattern' must match [a-z0-9_-]+"},
        ErrorCase{"PluginWithSlash",
                  "listeners: [{port: 1}]\nstreams: [{path: /a, plugin: ../evil}]",
                  "streams[0].plugin: '../evil' must match [a-z0-9_-]+"},
        ErrorCase{"UnknownListenerReference",
                  "listeners: [{port: 8554}, {port: 8555}]\n"
                  "streams: [{path: /a, plugin: x}, {path: /b, plugin: x, listeners: [rtsp-9999]}]",
                  "streams[1].listeners[0]: no listener named 'rtsp-9999' (have: rtsp-8554, "
                  "rtsp-8555)"},
        ErrorCase{"ListenerListedTwice",
                  "listeners: [{port: 8554}]\n"
                  "streams: [{path: /a, plugin: x, listeners: [rtsp-8554, rtsp-8554]}]",
                  "streams[0].listeners[1]: listener 'rtsp-8554' is listed twice"},
        ErrorCase{"NegativeDrain", "listeners: [{port: 1}]\ndrain_timeout: -1s",
                  "drain_timeout: -1s is negative (0 exits at once)"},
        ErrorCase{"DrainTooLong", "listeners: [{port: 1}]\ndrain_timeout: 61m",
                  "drain_timeout: 1h1m is longer than the maximum 1h"},
        ErrorCase{"EmptyPluginDir", "listeners: [{port: 1}]\nplugin_dirs: ['']",
                  "plugin_dirs[0]: is empty"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

TEST(ConfigValidatorTest, ErrorsPointAtTheFileWhenPositionsAreKnown) {
  common::SourceMap locations;
  auto config =
      ParseServerConfig("listeners:\n  - port: 8554\n  - port: 70000\n", "config.yaml", &locations);
  ASSERT_TRUE(config.ok()) << config.status();
  ApplyDefaults(&*config);
  absl::Status status = ConfigValidator(&locations).Validate(*config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()),
            "config.yaml:3:11: listeners[1].port: 70000 is out of range (0..65535)");
}

TEST(ConfigValidatorTest, DefaultedValuesPointAtTheirParent) {
  common::SourceMap locations;
  auto config =
      ParseServerConfig("listeners:\n  - port: 8554\n  - {bind_address: '::', port: 8554}\n",
                        "config.yaml", &locations);
  ASSERT_TRUE(config.ok()) << config.status();
  ApplyDefaults(&*config);
  absl::Status status = ConfigValidator(&locations).Validate(*config);
  EXPECT_EQ(std::string(status.message()),
            "config.yaml:3:5: listeners[1].name: duplicate listener name 'rtsp-8554' (also "
            "listeners[0])");
}

TEST(ConfigValidatorTest, RejectsUnknownLogLevelNumber) {
  v1::ServerConfig config = BuiltInServerConfig();
  ApplyDefaults(&config);
  config.mutable_logging()->set_level(static_cast<v1::Logging::Level>(17));
  absl::Status status = ConfigValidator().Validate(config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()), "logging.level: 17 is not a known log level");
}

// control.token and control.tls: the files are read; errors name the field
// and the file, never the token.
TEST(ValidateControlSecurityTest, RejectsATokenWithSpacesWithoutQuotingIt) {
  absl::Status status = ValidateText("listeners: [{port: 8554}]\ncontrol: {token: 'sec ret'}\n");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("control.token"));
  EXPECT_THAT(std::string(status.message()), ::testing::Not(::testing::HasSubstr("sec ret")));
}

TEST(ValidateControlSecurityTest, MissingTokenFileIsNamed) {
  absl::Status status =
      ValidateText("listeners: [{port: 8554}]\ncontrol: {token_file: /no/such/token}\n");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("control.token_file"));
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("/no/such/token"));
}

TEST(ValidateControlSecurityTest, CertWithoutKeyIsRejected) {
  absl::Status status =
      ValidateText("listeners: [{port: 8554}]\ncontrol: {tls: {cert_file: /x.pem}}\n");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("control.tls.key_file"));
}

TEST(ValidateControlSecurityTest, ClientCaWithoutCertIsRejected) {
  absl::Status status =
      ValidateText("listeners: [{port: 8554}]\ncontrol: {tls: {client_ca_file: /ca.pem}}\n");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("control.tls.cert_file"));
}

TEST(ValidateControlSecurityTest, NonPemCertificateIsNamed) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/not-a-cert.pem";
  FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fputs("hello\n", file);
  std::fclose(file);
  absl::Status status =
      ValidateText("listeners: [{port: 8554}]\ncontrol: {tls: {cert_file: " + path +
                   ", key_file: " + path + "}}\n");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("control.tls.cert_file"));
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr(path));
}

}  // namespace
// state_file: the directory must exist (the store renames a temporary file
// there); the file itself need not.
TEST(ValidateStateFileTest, AcceptsAFileInAnExistingDirectory) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/state.json";
  EXPECT_TRUE(ValidateText("listeners: [{port: 8554}]\nstate_file: " + path + "\n").ok());
}

TEST(ValidateStateFileTest, AcceptsARelativePath) {
  EXPECT_TRUE(ValidateText("listeners: [{port: 8554}]\nstate_file: state.json\n").ok());
}

TEST(ValidateStateFileTest, RejectsAMissingDirectoryNamingFieldAndValue) {
  absl::Status status =
      ValidateText("listeners: [{port: 8554}]\nstate_file: /no/such/dir/state.json\n");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("state_file"));
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("/no/such/dir/state.json"));
}

// streams[i].auth: errors name the field; the password is never shown.
constexpr char kAuthStream[] = R"(listeners: [{port: 8554}]
streams:
  - path: /cam
    plugin: testpattern
    auth: {method: %s, username: '%s', password: '%s'}
)";

absl::Status ValidateAuth(const std::string& method, const std::string& user,
                          const std::string& password) {
  char text[512];
  std::snprintf(text, sizeof(text), kAuthStream, method.c_str(), user.c_str(), password.c_str());
  return ValidateText(text);
}

TEST(ValidateStreamAuthTest, AcceptsBasicAndDigest) {
  EXPECT_TRUE(ValidateAuth("BASIC", "alice", "s3cret pass!").ok());
  EXPECT_TRUE(ValidateAuth("DIGEST", "alice", "s3cret").ok());
  EXPECT_TRUE(ValidateAuth("METHOD_UNSPECIFIED", "alice", "s3cret").ok());
}

TEST(ValidateStreamAuthTest, RejectsEmptyUsername) {
  absl::Status status = ValidateAuth("BASIC", "", "s3cret");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("streams[0].auth.username"));
}

TEST(ValidateStreamAuthTest, RejectsColonInUsername) {
  absl::Status status = ValidateAuth("DIGEST", "al:ice", "s3cret");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("streams[0].auth.username"));
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("al:ice"));
}

TEST(ValidateStreamAuthTest, RejectsEmptyPassword) {
  absl::Status status = ValidateAuth("DIGEST", "alice", "");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("streams[0].auth.password"));
}

TEST(ValidateStreamAuthTest, RejectsNonPrintablePasswordWithoutShowingIt) {
  absl::Status status = ValidateAuth("BASIC", "alice", "tab\there");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("streams[0].auth.password"));
  EXPECT_THAT(std::string(status.message()), ::testing::Not(::testing::HasSubstr("here")));
}

TEST(ValidateStreamAuthTest, ApiStreamErrorsNameTheApiField) {
  v1::ServerConfig config;
  config.add_listeners()->set_port(8554);
  ApplyDefaults(&config);
  v1::Stream stream;
  stream.set_path("/cam");
  stream.set_plugin("testpattern");
  stream.mutable_auth()->set_password("x");
  absl::Status status = ConfigValidator().ValidateStream(config, stream, "stream");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("stream.auth.username"));
}

}  // namespace rtsptest::config
