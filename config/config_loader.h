// Loading the server's configuration: file, environment, flags, defaults.
//
// LoadServerConfig() is the one call main needs. It
//   1. picks the config file: the flag's path, else $RTSP_TEST_CONFIG, else
//      none, in which case the config is the built-in one (four listeners,
//      rtsp-8554..rtsp-8557 on 0.0.0.0, and no streams; main should warn);
//   2. reads it (YAML or JSON, mapped onto rtsptest.config.v1.ServerConfig);
//      a file that defines no listeners gets the built-in four;
//   3. applies the environment's overrides, then the flags' (flags win);
//   4. fills in defaults (ApplyDefaults) and validates (ConfigValidator).
// Precedence, highest first: flag > environment > file > built-in default.
//
// Every error is an absl::Status with the field path, the value and where the
// value came from: "file:line:column" for the file, the flag or the variable
// as given for an override:
//   "/etc/rtsp.yaml:12:7: streams[2].parameters: expected a map, got a sequence"
//   "RTSP_TEST_MIN_HEALTHY=9: health.min_healthy_listeners: 9 is more than the 2 listeners"
// Codes: NotFound for a missing file, InvalidArgument for bad content or
// values, another errno-derived code when the file cannot be read. main
// prints the message and exits with kConfigErrorExitCode.
#ifndef RTSPTEST_CONFIG_CONFIG_LOADER_H_
#define RTSPTEST_CONFIG_CONFIG_LOADER_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/proto_yaml/proto_yaml_mapper.h"
#include "common/proto_yaml/source_map.h"
#include "config/overrides.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::config {

// The exit code of a server that refuses its configuration (as for a usage
// error), distinct from 1 (a failure while running).
inline constexpr int kConfigErrorExitCode = 2;

// The config used when there is no file: listeners rtsp-8554..rtsp-8557 on
// 0.0.0.0, no streams.
v1::ServerConfig BuiltInServerConfig();

// The config file to load, by precedence; nullopt when neither names one.
std::optional<std::string> ChooseConfigPath(const ConfigOverrides& flags,
                                            const ConfigOverrides& env);

// Parses YAML or JSON text onto a ServerConfig: shape only, no defaults and
// no semantic checks. `source_name` names the text in errors. `locations`,
// if not null, receives each field's position for later errors.
absl::StatusOr<v1::ServerConfig> ParseServerConfig(absl::string_view text,
                                                   absl::string_view source_name,
                                                   common::SourceMap* locations = nullptr);

// Reads and parses a config file (as ParseServerConfig). NotFound when it
// does not exist.
absl::StatusOr<v1::ServerConfig> ReadServerConfigFile(const std::string& path,
                                                      common::SourceMap* locations = nullptr);

// The whole sequence described at the top of this file.
absl::StatusOr<v1::ServerConfig> LoadServerConfig(const ConfigOverrides& flags,
                                                  const ConfigOverrides& env);

}  // namespace rtsptest::config

#endif  // RTSPTEST_CONFIG_CONFIG_LOADER_H_
