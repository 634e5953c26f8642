// Command-line and environment overrides of the config file.
//
// Containers are configured through a few knobs (ports, bind address, plugin
// directories, log level, drain time, health timings) rather than by editing
// a file, so each of them can be given as a flag or as an RTSP_TEST_*
// environment variable. Precedence, highest first:
//
//   command-line flag > environment variable > config file > built-in default
//
// Every knob is one row of one table (override_knobs.inc): its flag, its
// variable, the ServerConfig field it sets and its help. Values are read with
// the config file's scalar rules for that field (SetFieldFromText in
// proto_yaml_mapper.h), and the table also names the source of an error
// ("--stall_timeout='x': ...", "RTSP_TEST_STALL_TIMEOUT='x': ...") and the
// fields whose file positions an override replaces. main fills one
// ConfigOverrides from its flags, OverridesFromEnvironment() another;
// LoadServerConfig (config_loader.h) applies the environment's first and the
// flags' last, so flags win.
#ifndef RTSPTEST_CONFIG_OVERRIDES_H_
#define RTSPTEST_CONFIG_OVERRIDES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/proto_yaml/proto_yaml_mapper.h"
#include "common/proto_yaml/source_map.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::config {

// The config file to load when no --config is given. Not an override knob:
// it picks the file rather than changing a field.
inline constexpr char kEnvConfig[] = "RTSP_TEST_CONFIG";

// Where an override value came from; decides how errors name it and, for
// lists, the separator (',' in a flag, ':' in a variable, as in $PATH).
enum class OverrideSource { kFlag, kEnvironment };

struct OverrideRules;  // override.cc: limits and custom apply of a knob

// One row of the override table.
struct OverrideKnob {
  const char* flag;   // "stall_timeout" (--stall_timeout)
  const char* env;    // "RTSP_TEST_STALL_TIMEOUT"
  const char* field;  // "health.stall_timeout"
  const char* help;   // without the variable; see override_knobs.inc
  const OverrideRules* rules;
};

// Every knob, in the order they are applied.
absl::Span<const OverrideKnob> OverrideKnobs();

// Whether the knob's value is a secret (the control token): errors and
// origins then show kRedacted instead of the value.
bool IsSecretKnob(const OverrideKnob& knob);
inline constexpr char kRedacted[] = "<redacted>";

// The knob with flag name `flag`, or null.
const OverrideKnob* FindOverrideKnob(absl::string_view flag);

// How a source names itself in errors: "--stall_timeout" or
// "RTSP_TEST_STALL_TIMEOUT".
std::string OverrideSourceName(const OverrideKnob& knob, OverrideSource source);

// One source of overrides (the flags, or the environment).
struct ConfigOverrides {
  // A knob's value as the user wrote it.
  struct Setting {
    const OverrideKnob* knob;
    OverrideSource source;
    std::string value;
    // As the user wrote it, for errors about the final value:
    // "--min_healthy_listeners=9", "RTSP_TEST_MIN_HEALTHY=9".
    std::string origin;
  };

  // Checks `value` with the knob's rules and records it (replacing an
  // earlier value of the same knob). A bad value is an InvalidArgument that
  // names the source and the value:
  //   "RTSP_TEST_RTSP_PORTS='8554,,x': item 2 is empty"
  //   "--stall_timeout='soon': invalid duration 'soon' (...)"
  absl::Status Set(const OverrideKnob& knob, OverrideSource source, absl::string_view value);
  // Set() for the knob with flag name `flag`; InvalidArgument for no such knob.
  absl::Status Set(absl::string_view flag, OverrideSource source, absl::string_view value);

  // The setting of the knob with flag name `flag`, or null.
  const Setting* Find(absl::string_view flag) const;

  // The config file to load (YAML or JSON).
  std::optional<std::string> config_path;
  std::vector<Setting> settings;
};

// Reads RTSP_TEST_CONFIG and every knob's variable. A variable that is set
// but empty counts as unset, so `-e RTSP_TEST_BIND=` in a container
// definition disables it rather than failing. A malformed value is the
// InvalidArgument of ConfigOverrides::Set.
absl::StatusOr<ConfigOverrides> OverridesFromEnvironment();

// Applies every setting of `overrides` to `config`, in table order. Values
// are checked against the field's type and the knob's limits only; the
// ConfigValidator checks the final config, whatever source each value came
// from. If `locations` is not null, each field set is attributed to the
// setting's origin there (SourceMap::Attribute), so that a validation error
// names the flag or variable instead of the file position of the value it
// replaced.
//
// The knobs that are not one field:
//   rtsp_ports  If there are as many ports as listeners, each listener keeps
//               its name, address and streams and only its port changes, in
//               order; a listener named by default ("rtsp-<old port>") is
//               renamed to "rtsp-<new port>", and streams' `listeners`
//               references follow the rename. Otherwise the listeners are
//               replaced by one per port, named "rtsp-<port>", and every
//               stream's `listeners` list is cleared, so that every stream is
//               served on every new port. The new listeners keep the old bind
//               address if all the old listeners shared one, else they bind
//               the default (0.0.0.0).
//   bind        Sets every listener's bind_address and control.bind_address:
//               a user who says loopback means every port (grpc_bind, applied
//               after it, can still move the gRPC port).
//   plugin_dir  Replaces plugin_dirs.
void ApplyOverrides(const ConfigOverrides& overrides, v1::ServerConfig* config,
                    common::SourceMap* locations = nullptr);

// Parses a log level name as the log_level knob does: case-insensitive
// debug, info, warning, error ("warn" is accepted for warning).
absl::StatusOr<v1::Logging::Level> ParseLogLevel(absl::string_view text);

}  // namespace rtsptest::config

#endif  // RTSPTEST_CONFIG_OVERRIDES_H_
