// Table-driven tests of the override table: for every knob, the flag and the
// variable override the file, a bad value names the flag or the variable as
// its source, and the flag beats the variable. A knob added to
// override_knobs.inc without a case here fails EveryKnobHasACase.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/time/proto_time.h"
#include "config/config_loader.h"
#include "config/overrides.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::config {
namespace {

using ::testing::StartsWith;

// Every knob's field has a value here that the cases below can tell apart.
constexpr char kFile[] = R"(
listeners:
  - {port: 8554, bind_address: 127.0.0.1}
  - {port: 8555, bind_address: 127.0.0.1}
  - {port: 8556, bind_address: 127.0.0.1}
  - {port: 8557, bind_address: 127.0.0.1}
control:
  bind_address: 127.0.0.1
  port: 50051
  token: file-token
  tls: {cert_file: $TMP/server.pem, key_file: $TMP/key.pem, client_ca_file: $TMP/ca.pem}
plugin_dirs: [/file]
logging: {level: warning}
health:
  min_healthy_listeners: 4
  probe_interval: 2s
  probe_timeout: 1s
  deep_check: false
  stall_timeout: 2s
  require_live_streams: false
drain_timeout: 5s
state_file: $TMP/state.json
limits: {max_connections_per_listener: 100}
)";

using Reader = std::function<std::string(const v1::ServerConfig&)>;

// A file in the test's temporary directory (the knobs that name files).
std::string Tmp(absl::string_view name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

constexpr char kFakeCertificate[] =
    "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n";
constexpr char kFakeKey[] = "-----BEGIN PRIVATE KEY-----\nMA==\n-----END PRIVATE KEY-----\n";

std::string Duration(const google::protobuf::Duration& d) {
  return absl::FormatDuration(common::FromProtoDuration(d));
}

struct KnobCase {
  std::string flag;
  // The file's value, as the reader renders it.
  std::string file_reading;
  // Another value: as a flag, as the variable, and as the reader renders it.
  std::string flag_value;
  std::string env_value;
  std::string other_reading;
  // The file's value as the variable spells it (to show the flag wins).
  std::string env_file_value;
  // Malformed or out of range, rejected at parse or at validation.
  std::string bad_flag_value;
  std::string bad_env_value;
  Reader read;
};

std::vector<KnobCase> Cases() {
  return {
      {"rtsp_ports", "8554,8555,8556,8557", "9000,9001,9002,9003", "9000,9001,9002,9003",
       "9000,9001,9002,9003", "8554,8555,8556,8557", "80,x", "80,x",
       [](const v1::ServerConfig& c) {
         std::vector<uint32_t> ports;
         for (const auto& l : c.listeners()) ports.push_back(l.port());
         return absl::StrJoin(ports, ",");
       }},
      {"bind", "127.0.0.1 127.0.0.1", "::1", "::1", "::1 ::1", "127.0.0.1", "localhost",
       "localhost",
       [](const v1::ServerConfig& c) {
         return absl::StrCat(c.listeners(3).bind_address(), " ", c.control().bind_address());
       }},
      {"grpc_bind", "127.0.0.1", "::1", "::1", "::1", "127.0.0.1", "localhost", "localhost",
       [](const v1::ServerConfig& c) { return c.control().bind_address(); }},
      {"plugin_dir", "/file", "/a,/b", "/a:/b", "/a|/b", "/file", "/a,,/b", "/a::/b",
       [](const v1::ServerConfig& c) { return absl::StrJoin(c.plugin_dirs(), "|"); }},
      {"log_level", "warning", "debug", "DEBUG", "debug", "warning", "loud", "loud",
       [](const v1::ServerConfig& c) {
         return absl::AsciiStrToLower(v1::Logging::Level_Name(c.logging().level()));
       }},
      {"grpc_port", "50051", "6000", "6000", "6000", "50051", "70000", "-1",
       [](const v1::ServerConfig& c) { return absl::StrCat(c.control().port()); }},
      {"min_healthy_listeners", "4", "3", "3", "3", "4", "9", "x",
       [](const v1::ServerConfig& c) { return absl::StrCat(c.health().min_healthy_listeners()); }},
      {"probe_interval", "2s", "3s", "3", "3s", "2s", "soon", "1 fortnight",
       [](const v1::ServerConfig& c) { return Duration(c.health().probe_interval()); }},
      {"probe_timeout", "1s", "1.5s", "1500ms", "1.5s", "1s", "soon", "soon",
       [](const v1::ServerConfig& c) { return Duration(c.health().probe_timeout()); }},
      {"deep_check", "false", "true", "TRUE", "true", "false", "maybe", "1",
       [](const v1::ServerConfig& c) { return c.health().deep_check() ? "true" : "false"; }},
      {"stall_timeout", "2s", "3s", "3s", "3s", "2s", "soon", "1h",
       [](const v1::ServerConfig& c) { return Duration(c.health().stall_timeout()); }},
      {"require_live_streams", "false", "true", "true", "true", "false", "yes", "no",
       [](const v1::ServerConfig& c) {
         return c.health().require_live_streams() ? "true" : "false";
       }},
      {"drain_timeout", "5s", "7s", "7s", "7s", "5s", "2h", "-1s",
       [](const v1::ServerConfig& c) { return Duration(c.drain_timeout()); }},
      {"max_connections", "100", "200", "200", "200", "100", "x", "-1",
       [](const v1::ServerConfig& c) {
         return absl::StrCat(c.limits().max_connections_per_listener());
       }},
      {"control_token", "file-token", "flag-token", "flag-token", "flag-token", "file-token",
       "two words", "two words", [](const v1::ServerConfig& c) { return c.control().token(); }},
      // The loaded config carries the token read from the file.
      {"control_token_file", "file-token", Tmp("other.token"), Tmp("other.token"), "other-token",
       Tmp("file.token"), Tmp("missing.token"), Tmp("empty.token"),
       [](const v1::ServerConfig& c) { return c.control().token(); }},
      {"control_tls_cert", Tmp("server.pem"), Tmp("other.pem"), Tmp("other.pem"), Tmp("other.pem"),
       Tmp("server.pem"), Tmp("missing.pem"), Tmp("key.pem"),
       [](const v1::ServerConfig& c) { return c.control().tls().cert_file(); }},
      {"control_tls_key", Tmp("key.pem"), Tmp("other-key.pem"), Tmp("other-key.pem"),
       Tmp("other-key.pem"), Tmp("key.pem"), Tmp("missing.pem"), Tmp("server.pem"),
       [](const v1::ServerConfig& c) { return c.control().tls().key_file(); }},
      {"control_tls_client_ca", Tmp("ca.pem"), Tmp("other.pem"), Tmp("other.pem"), Tmp("other.pem"),
       Tmp("ca.pem"), Tmp("missing.pem"), Tmp("key.pem"),
       [](const v1::ServerConfig& c) { return c.control().tls().client_ca_file(); }},
      // The file need not exist; its directory must.
      {"state_file", Tmp("state.json"), Tmp("other.json"), Tmp("other.json"), Tmp("other.json"),
       Tmp("state.json"), Tmp("no-such-dir/state.json"), "/no/such/dir/state.json",
       [](const v1::ServerConfig& c) { return c.state_file(); }},
  };
}

void WriteText(const std::string& path, const std::string& text) {
  FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr) << path;
  std::fputs(text.c_str(), file);
  std::fclose(file);
}

// The config file and the token and PEM files the cases name.
std::string WriteFile() {
  std::string path = Tmp("knobs.yaml");
  WriteText(path, absl::StrReplaceAll(kFile, {{"$TMP", std::getenv("TEST_TMPDIR")}}));
  WriteText(Tmp("file.token"), "file-token\n");
  WriteText(Tmp("other.token"), "other-token\n");
  WriteText(Tmp("empty.token"), "");
  for (const char* name : {"server.pem", "ca.pem", "other.pem"})
    WriteText(Tmp(name), kFakeCertificate);
  for (const char* name : {"key.pem", "other-key.pem"}) WriteText(Tmp(name), kFakeKey);
  return path;
}

class OverrideKnobTest : public ::testing::TestWithParam<KnobCase> {
 protected:
  void SetUp() override {
    ClearEnvironment();
    knob_ = FindOverrideKnob(GetParam().flag);
    ASSERT_NE(knob_, nullptr) << GetParam().flag;
    flags_.config_path = WriteFile();
  }
  void TearDown() override { ClearEnvironment(); }

  static void ClearEnvironment() {
    unsetenv(kEnvConfig);
    for (const OverrideKnob& knob : OverrideKnobs()) unsetenv(knob.env);
  }

  // Sets the knob's variable and loads with flags_: the whole path main takes.
  absl::StatusOr<v1::ServerConfig> LoadWithEnv(const std::string& env_value) {
    if (!env_value.empty()) setenv(knob_->env, env_value.c_str(), 1);
    absl::StatusOr<ConfigOverrides> env = OverridesFromEnvironment();
    if (!env.ok()) return env.status();
    return LoadServerConfig(flags_, *env);
  }

  const OverrideKnob* knob_ = nullptr;
  ConfigOverrides flags_;
};

TEST_P(OverrideKnobTest, FileValueWithoutOverrides) {
  absl::StatusOr<v1::ServerConfig> config = LoadWithEnv("");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(GetParam().read(*config), GetParam().file_reading);
}

TEST_P(OverrideKnobTest, FlagOverridesTheFile) {
  ASSERT_TRUE(flags_.Set(*knob_, OverrideSource::kFlag, GetParam().flag_value).ok());
  absl::StatusOr<v1::ServerConfig> config = LoadWithEnv("");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(GetParam().read(*config), GetParam().other_reading);
}

TEST_P(OverrideKnobTest, VariableOverridesTheFile) {
  absl::StatusOr<v1::ServerConfig> config = LoadWithEnv(GetParam().env_value);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(GetParam().read(*config), GetParam().other_reading);
}

TEST_P(OverrideKnobTest, FlagBeatsTheVariable) {
  ASSERT_TRUE(flags_.Set(*knob_, OverrideSource::kFlag, GetParam().flag_value).ok());
  absl::StatusOr<v1::ServerConfig> config = LoadWithEnv(GetParam().env_file_value);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(GetParam().read(*config), GetParam().other_reading);
}

TEST_P(OverrideKnobTest, VariableLosesToTheFlagEvenWhenItDiffersFromTheFile) {
  flags_ = ConfigOverrides{flags_.config_path, {}};
  ASSERT_TRUE(flags_.Set(*knob_, OverrideSource::kFlag, GetParam().env_file_value).ok());
  absl::StatusOr<v1::ServerConfig> config = LoadWithEnv(GetParam().env_value);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(GetParam().read(*config), GetParam().file_reading);
}

// Whether the value is refused when read or when the final config is
// validated, the error starts with the flag as given.
TEST_P(OverrideKnobTest, BadFlagValueNamesTheFlag) {
  const std::string& bad = GetParam().bad_flag_value;
  absl::Status status = flags_.Set(*knob_, OverrideSource::kFlag, bad);
  if (status.ok()) status = LoadWithEnv("").status();
  const std::string shown = IsSecretKnob(*knob_) ? kRedacted : bad;
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              ::testing::AnyOf(StartsWith(absl::StrCat("--", knob_->flag, "='", shown, "': ")),
                               StartsWith(absl::StrCat("--", knob_->flag, "=", shown, ": "))));
}

TEST_P(OverrideKnobTest, BadVariableValueNamesTheVariable) {
  const std::string& bad = GetParam().bad_env_value;
  absl::Status status = LoadWithEnv(bad).status();
  const std::string shown = IsSecretKnob(*knob_) ? kRedacted : bad;
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              ::testing::AnyOf(StartsWith(absl::StrCat(knob_->env, "='", shown, "': ")),
                               StartsWith(absl::StrCat(knob_->env, "=", shown, ": "))));
}

INSTANTIATE_TEST_SUITE_P(Knobs, OverrideKnobTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<KnobCase>& info) {
                           return info.param.flag;
                         });

TEST(OverrideTableTest, EveryKnobHasACase) {
  std::set<std::string> covered;
  for (const KnobCase& c : Cases()) covered.insert(c.flag);
  for (const OverrideKnob& knob : OverrideKnobs()) {
    EXPECT_TRUE(covered.count(knob.flag)) << "no test case for --" << knob.flag;
  }
}

TEST(OverrideTableTest, FlagsAndVariablesAreUniqueAndVariablesArePrefixed) {
  std::set<std::string> flags, envs;
  for (const OverrideKnob& knob : OverrideKnobs()) {
    EXPECT_TRUE(flags.insert(knob.flag).second) << knob.flag;
    EXPECT_TRUE(envs.insert(knob.env).second) << knob.env;
    EXPECT_THAT(knob.env, StartsWith("RTSP_TEST_"));
    EXPECT_NE(std::string(knob.help), "") << knob.flag;
  }
}

TEST(OverrideTableTest, FlagErrorNamesTheFlagAndValue) {
  ConfigOverrides flags;
  absl::Status status = flags.Set("stall_timeout", OverrideSource::kFlag, "soon");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()),
            "--stall_timeout='soon': invalid duration 'soon' (expected e.g. \"2s\", \"500ms\", "
            "\"1.5s\", \"1m\" or a number of seconds)");
}

TEST(OverrideTableTest, UnknownKnobIsInvalidArgument) {
  ConfigOverrides flags;
  EXPECT_EQ(flags.Set("no_such_knob", OverrideSource::kFlag, "1").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(OverrideTableTest, LaterSettingOfAKnobReplacesTheEarlierOne) {
  ConfigOverrides flags;
  ASSERT_TRUE(flags.Set("grpc_port", OverrideSource::kFlag, "1").ok());
  ASSERT_TRUE(flags.Set("grpc_port", OverrideSource::kFlag, "2").ok());
  ASSERT_EQ(flags.settings.size(), 1u);
  EXPECT_EQ(flags.Find("grpc_port")->origin, "--grpc_port=2");
}

// A secret never appears in an error or an origin, even when it is refused.
TEST(OverrideTableTest, TokenIsNeverQuoted) {
  ConfigOverrides flags;
  absl::Status status = flags.Set("control_token", OverrideSource::kFlag, "sec ret");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()).find("sec ret"), std::string::npos) << status;
  ASSERT_TRUE(flags.Set("control_token", OverrideSource::kFlag, "s3cret").ok());
  EXPECT_EQ(flags.Find("control_token")->origin, "--control_token=<redacted>");
}

}  // namespace
}  // namespace rtsptest::config
