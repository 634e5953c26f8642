// Command-line and environment overrides of the config file.
//
// Containers are configured through a few knobs (ports, bind address, plugin
// directories, log level, drain time) rather than by editing a file, so each
// of them can be given as a flag (defined in main) or as an RTSP_TEST_*
// environment variable. Precedence, highest first:
//
//   command-line flag > environment variable > config file > built-in default
//
// ConfigOverrides is plain data: main fills one from its flags, and
// OverridesFromEnvironment() fills another; LoadServerConfig (config_loader.h)
// applies the environment's first and the flags' last, so flags win.
#ifndef RTSPTEST_SERVER_CONFIG_OVERRIDES_H_
#define RTSPTEST_SERVER_CONFIG_OVERRIDES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "rtsptest/config/v1/config.pb.h"
#include "config/source_map.h"

namespace rtsptest::config {

// The environment variables read by OverridesFromEnvironment(). A variable
// that is set but empty counts as unset, so `-e RTSP_TEST_BIND=` in a
// container definition disables it rather than failing.
inline constexpr char kEnvConfig[] = "RTSP_TEST_CONFIG";               // file path
inline constexpr char kEnvRtspPorts[] = "RTSP_TEST_RTSP_PORTS";        // "8554,8555"
inline constexpr char kEnvBind[] = "RTSP_TEST_BIND";                   // "0.0.0.0"
inline constexpr char kEnvGrpcBind[] = "RTSP_TEST_GRPC_BIND";          // "127.0.0.1"
inline constexpr char kEnvPluginDir[] = "RTSP_TEST_PLUGIN_DIR";        // "/a:/b"
inline constexpr char kEnvLogLevel[] = "RTSP_TEST_LOG_LEVEL";          // "debug"
inline constexpr char kEnvDrainTimeout[] = "RTSP_TEST_DRAIN_TIMEOUT";  // "10s"
inline constexpr char kEnvGrpcPort[] = "RTSP_TEST_GRPC_PORT";         // "50051"
inline constexpr char kEnvMinHealthy[] = "RTSP_TEST_MIN_HEALTHY";     // "3"
inline constexpr char kEnvProbeInterval[] = "RTSP_TEST_PROBE_INTERVAL";  // "2s"
inline constexpr char kEnvProbeTimeout[] = "RTSP_TEST_PROBE_TIMEOUT";    // "2s"
inline constexpr char kEnvDeepCheck[] = "RTSP_TEST_DEEP_CHECK";          // "true"
inline constexpr char kEnvStallTimeout[] = "RTSP_TEST_STALL_TIMEOUT";    // "2s"
inline constexpr char kEnvRequireLiveStreams[] = "RTSP_TEST_REQUIRE_LIVE_STREAMS";  // "true"

// One source of overrides; every unset member leaves the config alone.
struct ConfigOverrides {
  // The config file to load (YAML or JSON).
  std::optional<std::string> config_path;

  // The RTSP ports. If there are as many ports as listeners, each listener
  // keeps its name, address and streams and only its port changes, in order;
  // a listener named by default ("rtsp-<old port>") is renamed to
  // "rtsp-<new port>", and streams' `listeners` references follow the rename.
  // Otherwise the listeners are replaced by one per port, named
  // "rtsp-<port>", and every stream's `listeners` list is cleared, so that
  // every stream is served on every new port (old names mean nothing any
  // more). The new listeners keep the old bind address if all the old
  // listeners shared one, else they bind the default (0.0.0.0).
  std::optional<std::vector<uint32_t>> rtsp_ports;

  // Sets every listener's bind_address (applied after rtsp_ports) and, unless
  // grpc_bind is set too, control.bind_address: a user who says loopback
  // means every port. (main binds the embedded HTTP gateway where the gRPC
  // port binds, unless --http_bind says otherwise.)
  std::optional<std::string> bind;
  // control.bind_address: where the gRPC (health + control) port binds.
  std::optional<std::string> grpc_bind;

  // Replaces the config's plugin_dirs when non-empty.
  std::vector<std::string> plugin_dirs;

  std::optional<v1::Logging::Level> log_level;

  std::optional<absl::Duration> drain_timeout;
  // control.port: the gRPC (health + control) port.
  std::optional<uint32_t> grpc_port;
  // health.min_healthy_listeners: k of the k-of-n rule.
  std::optional<uint32_t> min_healthy;
  // health.probe_interval, health.probe_timeout, health.deep_check.
  std::optional<absl::Duration> probe_interval;
  std::optional<absl::Duration> probe_timeout;
  std::optional<bool> deep_check;
  // health.stall_timeout, health.require_live_streams.
  std::optional<absl::Duration> stall_timeout;
  std::optional<bool> require_live_streams;

  // How each member above was given, as the user wrote it, so that an error
  // about the value names its source: "--min_healthy_listeners=9",
  // "RTSP_TEST_MIN_HEALTHY=9". Filled by OverridesFromEnvironment() and by
  // main for its flags; empty for a member set otherwise (errors then name
  // no source, and never the file).
  struct Origins {
    std::string rtsp_ports, bind, grpc_bind, plugin_dirs, log_level, drain_timeout, grpc_port,
        min_healthy, probe_interval, probe_timeout, deep_check, stall_timeout, require_live_streams;
  } origins;
};

// Parses a non-negative integer no larger than `max` ("50051", "3").
absl::StatusOr<uint32_t> ParseBoundedUint(absl::string_view text, uint32_t max);
// Parses "true" or "false" (case-insensitive).
absl::StatusOr<bool> ParseBool(absl::string_view text);

// Parses a comma-separated port list, e.g. "8554,8555,8556,8557" (spaces
// around items are allowed). Each port is 0..65535; 0 (an ephemeral port)
// may repeat, other ports may not. Errors are InvalidArgument and describe
// the item ("item 2 is empty", "item 3: 'x' is not a port number"); the
// caller prefixes where the list came from (a flag, a variable).
absl::StatusOr<std::vector<uint32_t>> ParsePortList(absl::string_view text);

// Parses a log level name, case-insensitive: debug, info, warning, error
// ("warn" is accepted for warning).
absl::StatusOr<v1::Logging::Level> ParseLogLevel(absl::string_view text);

// Reads the RTSP_TEST_* variables above. A malformed value is an
// InvalidArgument naming the variable and its value:
//   "RTSP_TEST_RTSP_PORTS='8554,,x': item 2 is empty"
// RTSP_TEST_PLUGIN_DIR is a colon-separated list of directories.
absl::StatusOr<ConfigOverrides> OverridesFromEnvironment();

// Applies every set member of `overrides` to `config` (see the members for
// the exact semantics). Values are not validated here: ConfigValidator does
// that on the final config, whatever source each value came from. If
// `locations` is not null, each field set is attributed to its member's
// origin there (SourceMap::Attribute), so that a validation error names the
// flag or variable instead of the file position of the value it replaced.
void ApplyOverrides(const ConfigOverrides& overrides, v1::ServerConfig* config,
                    SourceMap* locations = nullptr);

}  // namespace rtsptest::config

#endif  // RTSPTEST_SERVER_CONFIG_OVERRIDES_H_
