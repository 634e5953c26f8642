// Tests of ProtoYamlMapper: YAML/JSON onto protobuf messages by reflection.
#include "common/proto_yaml/proto_yaml_mapper.h"

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "gtest/gtest.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::common {
namespace {

using ::testing::HasSubstr;

// Parses `yaml` onto a fresh message of type T, as "config.yaml".
template <typename T>
absl::StatusOr<T> MapText(const std::string& yaml, SourceMap* locations = nullptr) {
  SourceMap own("config.yaml");
  absl::StatusOr<YAML::Node> node = ParseYaml(yaml, "config.yaml");
  if (!node.ok()) return node.status();
  T message;
  absl::Status status = ProtoYamlMapper(locations ? locations : &own).Map(*node, &message);
  if (!status.ok()) return status;
  return message;
}

TEST(ProtoYamlMapperTest, MapsNestedRepeatedAndScalarFields) {
  auto config = MapText<config::v1::ServerConfig>(R"(
listeners:
  - name: front
    bind_address: 127.0.0.1
    port: 8554
  - port: 0
streams:
  - path: /cam1
    plugin: testpattern
    listeners: [front]
    description: bars
plugin_dirs: [/opt/a, /opt/b]
logging: {level: debug}
drain_timeout: 3s
)");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->listeners_size(), 2);
  EXPECT_EQ(config->listeners(0).name(), "front");
  EXPECT_EQ(config->listeners(0).bind_address(), "127.0.0.1");
  EXPECT_EQ(config->listeners(0).port(), 8554u);
  EXPECT_EQ(config->listeners(1).port(), 0u);
  ASSERT_EQ(config->streams_size(), 1);
  EXPECT_EQ(config->streams(0).path(), "/cam1");
  EXPECT_EQ(config->streams(0).plugin(), "testpattern");
  EXPECT_THAT(config->streams(0).listeners(), ::testing::ElementsAre("front"));
  EXPECT_EQ(config->streams(0).description(), "bars");
  EXPECT_THAT(config->plugin_dirs(), ::testing::ElementsAre("/opt/a", "/opt/b"));
  EXPECT_EQ(config->logging().level(), config::v1::Logging::DEBUG);
  EXPECT_EQ(config->drain_timeout().seconds(), 3);
}

TEST(ProtoYamlMapperTest, AcceptsJsonDocumentsAndJsonFieldNames) {
  auto config = MapText<config::v1::ServerConfig>(R"({
    "listeners": [{"name": "v6", "bindAddress": "::1", "port": 9000}],
    "pluginDirs": ["/opt/plugins"],
    "drainTimeout": "1.5s",
    "streams": [{"path": "/a", "plugin": "testpattern", "parameters": {"fps": 30, "overlay": true}}]
  })");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listeners(0).bind_address(), "::1");
  EXPECT_EQ(config->listeners(0).port(), 9000u);
  EXPECT_THAT(config->plugin_dirs(), ::testing::ElementsAre("/opt/plugins"));
  EXPECT_EQ(config->drain_timeout().seconds(), 1);
  EXPECT_EQ(config->drain_timeout().nanos(), 500000000);
  EXPECT_EQ(config->streams(0).parameters().at("fps"), "30");
  EXPECT_EQ(config->streams(0).parameters().at("overlay"), "true");
}

TEST(ProtoYamlMapperTest, NullAndEmptyDocumentLeaveDefaults) {
  auto empty = MapText<config::v1::ServerConfig>("");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->listeners_size(), 0);

  auto nulls = MapText<config::v1::ServerConfig>("listeners:\nlogging: ~\ndrain_timeout:\n");
  ASSERT_TRUE(nulls.ok()) << nulls.status();
  EXPECT_EQ(nulls->listeners_size(), 0);
  EXPECT_FALSE(nulls->has_drain_timeout());
}

struct DurationCase {
  std::string text;
  int64_t seconds;
  int32_t nanos;
};

class DurationTest : public ::testing::TestWithParam<DurationCase> {};

TEST_P(DurationTest, ParsesOntoDurationProto) {
  auto config = MapText<config::v1::ServerConfig>("drain_timeout: " + GetParam().text);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->drain_timeout().seconds(), GetParam().seconds);
  EXPECT_EQ(config->drain_timeout().nanos(), GetParam().nanos);
}

INSTANTIATE_TEST_SUITE_P(
    Texts, DurationTest,
    ::testing::Values(DurationCase{"2s", 2, 0}, DurationCase{"500ms", 0, 500000000},
                      DurationCase{"1.5s", 1, 500000000}, DurationCase{"1m", 60, 0},
                      DurationCase{"1h30m", 5400, 0}, DurationCase{"10", 10, 0},
                      DurationCase{"0.25", 0, 250000000}, DurationCase{"0", 0, 0},
                      DurationCase{"\"2s\"", 2, 0}, DurationCase{"-2s", -2, 0},
                      DurationCase{"{seconds: 4, nanos: 5}", 4, 5}));

TEST(ProtoYamlMapperTest, EnumsByNameCaseInsensitiveOrNumber) {
  for (const auto& [text, level] : std::vector<std::pair<std::string, config::v1::Logging::Level>>{
           {"debug", config::v1::Logging::DEBUG},
           {"INFO", config::v1::Logging::INFO},
           {"Warning", config::v1::Logging::WARNING},
           {"4", config::v1::Logging::ERROR}}) {
    auto config = MapText<config::v1::ServerConfig>("logging:\n  level: " + text);
    ASSERT_TRUE(config.ok()) << text << ": " << config.status();
    EXPECT_EQ(config->logging().level(), level) << text;
  }
}

TEST(ProtoYamlMapperTest, MapValuesMayBeAnyScalarAndAreKeptAsText) {
  auto config = MapText<config::v1::ServerConfig>(R"(
streams:
  - parameters:
      width: 1280
      overlay: true
      audio_freq_hz: 440.5
      codec: h264
      empty: ""
)");
  ASSERT_TRUE(config.ok()) << config.status();
  const auto& parameters = config->streams(0).parameters();
  EXPECT_EQ(parameters.at("width"), "1280");
  EXPECT_EQ(parameters.at("overlay"), "true");
  EXPECT_EQ(parameters.at("audio_freq_hz"), "440.5");
  EXPECT_EQ(parameters.at("codec"), "h264");
  EXPECT_EQ(parameters.at("empty"), "");
}

TEST(ProtoYamlMapperTest, RecordsFieldPositions) {
  SourceMap locations("config.yaml");
  auto config =
      MapText<config::v1::ServerConfig>("streams:\n  - path: /a\n    plugin: x\n", &locations);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(locations.Locate("streams[0].plugin"), "config.yaml:3:13");
  EXPECT_EQ(locations.Locate("streams[0]"), "config.yaml:2:5");
  // A field the file never set falls back to its nearest ancestor.
  EXPECT_EQ(locations.Locate("streams[0].description"), "config.yaml:2:5");
  EXPECT_EQ(locations.Locate("listeners[0]"), "");
}

TEST(SourceMapTest, ForgetStopsFallbackToAncestors) {
  SourceMap locations("config.yaml");
  locations.Record("listeners[0]", 2, 5);
  locations.Record("listeners[0].bind_address", 3, 19);
  locations.Forget("listeners[0].bind_address");
  EXPECT_EQ(locations.Locate("listeners[0].bind_address"), "");
  EXPECT_EQ(locations.Locate("listeners[0].port"), "config.yaml:2:5");
}

// Every malformed input is InvalidArgument with "file:line:col: path: what".
struct ErrorCase {
  std::string name;
  std::string yaml;
  std::string message;  // the whole expected message
};

class MapperErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(MapperErrorTest, FailsWithPathAndPosition) {
  auto config = MapText<config::v1::ServerConfig>(GetParam().yaml);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(config.status().message()), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, MapperErrorTest,
    ::testing::Values(
        ErrorCase{"UnknownFieldWithSuggestion", "streams:\n  - path: /a\n    plgin: x\n",
                  "config.yaml:3:5: streams[0].plgin: unknown field (did you mean \"plugin\"?)"},
        ErrorCase{"UnknownFieldTransposed", "listeners:\n  - prot: 1\n",
                  "config.yaml:2:5: listeners[0].prot: unknown field (did you mean \"port\"?)"},
        ErrorCase{"UnknownFieldNoSuggestion", "healthcheck: {}\n",
                  "config.yaml:1:1: healthcheck: unknown field"},
        ErrorCase{"MapExpectedGotSequence",
                  "streams:\n  - path: /a\n  - path: /b\n  - path: /c\n    parameters:\n"
                  "      - fps\n",
                  "config.yaml:6:7: streams[2].parameters: expected a map, got a sequence"},
        ErrorCase{"NestedMapAsMapValue", "streams:\n  - parameters:\n      size: {w: 1}\n",
                  "config.yaml:3:13: streams[0].parameters.size: expected a string, got a map"},
        ErrorCase{"NullMapValue", "streams:\n  - parameters:\n      fps:\n",
                  "config.yaml:3:7: streams[0].parameters.fps: expected a string, got null"},
        ErrorCase{"PortBeyondUint32", "listeners:\n  - port: 70000000000\n",
                  "config.yaml:2:11: listeners[0].port: 70000000000 is out of range for uint32 "
                  "(0..4294967295)"},
        ErrorCase{"NegativePort", "listeners:\n  - port: -1\n",
                  "config.yaml:2:11: listeners[0].port: -1 is out of range for uint32 "
                  "(0..4294967295)"},
        ErrorCase{"PortNotANumber", "listeners:\n  - port: http\n",
                  "config.yaml:2:11: listeners[0].port: expected an integer, got 'http'"},
        ErrorCase{"HexPortRefused", "listeners:\n  - port: 0x2000\n",
                  "config.yaml:2:11: listeners[0].port: expected an integer, got '0x2000'"},
        ErrorCase{"UnknownEnumValue", "logging:\n  level: verbose\n",
                  "config.yaml:2:10: logging.level: unknown value 'verbose' (expected one of: "
                  "debug, info, warning, error)"},
        ErrorCase{"BadDuration", "drain_timeout: 2 parsecs\n",
                  "config.yaml:1:16: drain_timeout: invalid duration '2 parsecs' (expected e.g. "
                  "\"2s\", \"500ms\", \"1.5s\", \"1m\" or a number of seconds)"},
        ErrorCase{"InfiniteDuration", "drain_timeout: inf\n",
                  "config.yaml:1:16: drain_timeout: invalid duration 'inf' (expected e.g. "
                  "\"2s\", \"500ms\", \"1.5s\", \"1m\" or a number of seconds)"},
        ErrorCase{"SequenceExpected", "plugin_dirs: /opt/plugins\n",
                  "config.yaml:1:14: plugin_dirs: expected a sequence, got '/opt/plugins'"},
        ErrorCase{"NullSequenceElement", "plugin_dirs: [/a, ~]\n",
                  "config.yaml:1:19: plugin_dirs[1]: expected a string, got null"},
        ErrorCase{"ScalarWhereMessage", "streams: [cam1]\n",
                  "config.yaml:1:11: streams[0]: expected a map, got 'cam1'"},
        ErrorCase{"StringGotMap", "streams:\n  - plugin: {name: x}\n",
                  "config.yaml:2:13: streams[0].plugin: expected a string, got a map"},
        ErrorCase{"TopLevelNotAMap", "- listeners\n",
                  "config.yaml:1:1: expected a map, got a sequence"},
        ErrorCase{"DuplicateKey", "drain_timeout: 1s\ndrain_timeout: 2s\n",
                  "config.yaml:2:1: drain_timeout: set twice (first at line 1)"},
        ErrorCase{"DuplicateMapKey", "streams:\n  - parameters: {fps: 1, fps: 2}\n",
                  "config.yaml:2:26: streams[0].parameters.fps: set twice"},
        ErrorCase{"FieldSetTwiceViaJsonAlias", "plugin_dirs: [/a]\npluginDirs: [/b]\n",
                  "config.yaml:2:1: plugin_dirs: set twice (first at line 1)"},
        ErrorCase{"YamlSyntaxError", "listeners: [\n",
                  "config.yaml:2:1: YAML syntax error: end of sequence flow not found"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

// The mapper knows nothing about ServerConfig: any message maps the same way.
TEST(ProtoYamlMapperTest, WorksOnAnyMessage) {
  auto field = MapText<google::protobuf::FieldDescriptorProto>(R"(
name: frames
number: 7
label: label_repeated
type: TYPE_STRING
options: {deprecated: true, packed: FALSE}
)");
  ASSERT_TRUE(field.ok()) << field.status();
  EXPECT_EQ(field->name(), "frames");
  EXPECT_EQ(field->number(), 7);
  EXPECT_EQ(field->label(), google::protobuf::FieldDescriptorProto::LABEL_REPEATED);
  EXPECT_EQ(field->type(), google::protobuf::FieldDescriptorProto::TYPE_STRING);
  EXPECT_TRUE(field->options().deprecated());
  EXPECT_FALSE(field->options().packed());
  EXPECT_TRUE(field->options().has_packed());
}

TEST(ProtoYamlMapperTest, BoolAcceptsOnlyTrueOrFalse) {
  auto field = MapText<google::protobuf::FieldDescriptorProto>("options: {deprecated: yes}\n");
  ASSERT_FALSE(field.ok());
  EXPECT_EQ(field.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(field.status().message()),
            "config.yaml:1:23: options.deprecated: expected true or false, got 'yes'");
}

TEST(ProtoYamlMapperTest, Int32RangeIsChecked) {
  auto field = MapText<google::protobuf::FieldDescriptorProto>("number: 3000000000\n");
  ASSERT_FALSE(field.ok());
  EXPECT_EQ(field.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(field.status().message()),
            "config.yaml:1:9: number: 3000000000 is out of range for int32 "
            "(-2147483648..2147483647)");
  auto lowest = MapText<google::protobuf::FieldDescriptorProto>("number: -2147483648\n");
  ASSERT_TRUE(lowest.ok()) << lowest.status();
  EXPECT_EQ(lowest->number(), -2147483648);
}

TEST(ParseConfigDurationTest, RejectsGarbage) {
  for (const char* text : {"", "soon", "2 s", "nan", "1e400", "-inf"}) {
    auto duration = ParseConfigDuration(text);
    EXPECT_EQ(duration.status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
  EXPECT_EQ(*ParseConfigDuration(" 250ms "), absl::Milliseconds(250));
}

}  // namespace
}  // namespace rtsptest::common
