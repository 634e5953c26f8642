// The generic YAML/JSON-to-proto mapper now lives in common/proto_yaml (tools/
// read files with it too); this header brings its names into
// rtsptest::config, so that config/ code keeps spelling them unqualified.
#ifndef RTSPTEST_CONFIG_PROTO_YAML_NAMES_H_
#define RTSPTEST_CONFIG_PROTO_YAML_NAMES_H_

#include "common/proto_yaml/proto_yaml_mapper.h"
#include "common/proto_yaml/source_map.h"

namespace rtsptest::config {

using ::rtsptest::common::EnumChoices;
using ::rtsptest::common::FindFieldPath;
using ::rtsptest::common::FormatFieldError;
using ::rtsptest::common::ParseConfigDuration;
using ::rtsptest::common::ParseYaml;
using ::rtsptest::common::ProtoYamlMapper;
using ::rtsptest::common::SetFieldFromText;
using ::rtsptest::common::SourceMap;

}  // namespace rtsptest::config

#endif  // RTSPTEST_CONFIG_PROTO_YAML_NAMES_H_
