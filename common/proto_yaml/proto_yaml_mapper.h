// ProtoYamlMapper: maps a YAML (or JSON) document onto any protobuf message
// through reflection, so the config file and the API share one schema (the
// approach Envoy takes). A new config section needs a proto field, not code.
//
// Mapping rules:
//   - Keys are proto field names ("bind_address") or their JSON names
//     ("bindAddress"). Unknown keys are errors, with a "did you mean" hint.
//   - string: any YAML scalar, read as text. bool: true/false.
//   - int32/int64/uint32/uint64: decimal integers, range-checked.
//   - float/double: decimal numbers.
//   - enum: a value name, case-insensitive ("debug" for DEBUG), or its number.
//   - repeated: a YAML sequence. map<K, V>: a YAML map.
//   - message: a YAML map; google.protobuf.Duration also takes a string such
//     as "2s", "500ms", "1.5s", "1m" or a plain number of seconds.
//   - null (`key:` with no value, or `~`) leaves the field at its default,
//     as proto3's JSON mapping does.
//
// Every error is InvalidArgument and reads
// "<source>:<line>:<column>: <field path>: <what is wrong>".
#ifndef RTSPTEST_COMMON_PROTO_YAML_PROTO_YAML_MAPPER_H_
#define RTSPTEST_COMMON_PROTO_YAML_PROTO_YAML_MAPPER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/proto_yaml/source_map.h"
#include "google/protobuf/message.h"
#include "yaml-cpp/yaml.h"

namespace rtsptest::common {

// Parses YAML or JSON text. yaml-cpp reports syntax errors by throwing; this
// is the one place where they are caught and turned into InvalidArgument
// ("config.yaml:3:9: YAML syntax error: ...").
absl::StatusOr<YAML::Node> ParseYaml(absl::string_view text, absl::string_view source_name);

// Parses a duration as written in the config, the environment or a flag:
// "2s", "500ms", "1.5s", "1m", "1h30m", or a plain number of seconds ("10",
// "0.5"). Infinite durations are rejected.
absl::StatusOr<absl::Duration> ParseConfigDuration(absl::string_view text);

// The field at a dotted path of singular fields ("health.stall_timeout",
// proto or JSON names) of `type`, or null when there is none.
const google::protobuf::FieldDescriptor* FindFieldPath(const google::protobuf::Descriptor* type,
                                                       absl::string_view path);

// The value names of an enum a user may write, lowercase and comma-separated
// ("debug, info, warning, error"); *_UNSPECIFIED = 0 is left out.
std::string EnumChoices(const google::protobuf::EnumDescriptor* type);

// Sets the field at `path` (as FindFieldPath) of `message` from one scalar
// text, with the rules and messages of a scalar in the file: what the
// RTSP_TEST_* variables and the flags use, so that a value means the same
// wherever it is written. A repeated scalar field gets `text` appended.
// InvalidArgument without a location ("expected true or false, got 'x'");
// the caller says where the text came from.
absl::Status SetFieldFromText(absl::string_view path, absl::string_view text,
                              google::protobuf::Message* message);

class ProtoYamlMapper {
 public:
  // `locations`, when not null, receives the position of every field set;
  // its source_name() names the document in error messages.
  explicit ProtoYamlMapper(SourceMap* locations)
      : locations_(locations != nullptr ? locations : &own_locations_) {}
  explicit ProtoYamlMapper(std::string source_name)
      : own_locations_(std::move(source_name)), locations_(&own_locations_) {}

  ProtoYamlMapper(const ProtoYamlMapper&) = delete;
  ProtoYamlMapper& operator=(const ProtoYamlMapper&) = delete;

  // Merges `node` into `message`. On error `message` may be half-filled.
  absl::Status Map(const YAML::Node& node, google::protobuf::Message* message);

 private:
  absl::Status MapMessage(const YAML::Node& node, const std::string& path,
                          google::protobuf::Message* message);
  absl::Status MapField(const YAML::Node& node, const std::string& path,
                        const google::protobuf::FieldDescriptor* field,
                        google::protobuf::Message* message);
  absl::Status MapMapEntry(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                           const google::protobuf::FieldDescriptor* field,
                           google::protobuf::Message* message);
  // Sets a singular field, or appends to a repeated one, from one node.
  absl::Status MapValue(const YAML::Node& node, const std::string& path,
                        const google::protobuf::FieldDescriptor* field,
                        google::protobuf::Message* message);
  absl::Status MapDuration(const YAML::Node& node, const std::string& path,
                           google::protobuf::Message* duration);

  absl::Status Error(const YAML::Node& node, const std::string& path,
                     absl::string_view message) const;
  void Record(const YAML::Node& node, const std::string& path);

  SourceMap own_locations_;
  SourceMap* locations_;
};

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_PROTO_YAML_PROTO_YAML_MAPPER_H_
