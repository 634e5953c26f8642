// Built-in defaults and semantic validation of a ServerConfig.
//
// The mapper (proto_yaml_mapper.h) checks that a file has the right shape;
// this checks that the result makes sense as a server: unique listener names
// and addresses, valid mount paths, stream->listener references that resolve.
// It is separate so that configs from any source (file, flags, environment,
// and later the control API) go through the same checks.
#ifndef RTSPTEST_CONFIG_CONFIG_VALIDATOR_H_
#define RTSPTEST_CONFIG_CONFIG_VALIDATOR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/proto_yaml/proto_yaml_mapper.h"
#include "common/proto_yaml/source_map.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::config {

inline constexpr char kDefaultBindAddress[] = "0.0.0.0";
inline constexpr uint32_t kMaxPort = 65535;
inline constexpr absl::Duration kDefaultDrainTimeout = absl::Seconds(10);
inline constexpr absl::Duration kMaxDrainTimeout = absl::Hours(1);
inline constexpr uint32_t kDefaultControlPort = 50051;
inline constexpr absl::Duration kDefaultProbeInterval = absl::Seconds(2);
inline constexpr absl::Duration kDefaultProbeTimeout = absl::Seconds(2);
// Probe timings above this are a typo, not a policy.
inline constexpr absl::Duration kMaxProbeTiming = absl::Minutes(1);
// Below these a probe round would open connections without pause (interval)
// or could never complete (timeout).
inline constexpr absl::Duration kMinProbeInterval = absl::Milliseconds(100);
inline constexpr absl::Duration kMinProbeTimeout = absl::Milliseconds(10);
// health.stall_timeout: default and range. Below 100 ms a stream at a low
// frame rate (or one waiting on a key frame) would flap; above a minute a
// frozen camera would go unnoticed.
inline constexpr absl::Duration kDefaultStallTimeout = absl::Seconds(2);
inline constexpr absl::Duration kMinStallTimeout = absl::Milliseconds(100);
inline constexpr absl::Duration kMaxStallTimeout = absl::Minutes(1);

// The name a listener gets when the config gives none: "rtsp-<port>". Port 0
// (ephemeral, used by tests) would make every such listener "rtsp-0", so
// those are named by position instead: "rtsp-ephemeral-<index>".
std::string DefaultListenerName(uint32_t port, int index);

// Fills in what the config may leave out: listener names, bind addresses
// ("0.0.0.0"), drain_timeout (10s when unset; an explicit 0s is kept), the
// health timings (probe_interval, probe_timeout, stall_timeout) and the log
// level (INFO when unspecified). Idempotent.
void ApplyDefaults(v1::ServerConfig* config);

// What one config (or one stream of the control API) may hold: enough for
// any camera farm, small enough that a health report of every stream stays
// well under the 64 MiB the project's gRPC clients accept.
inline constexpr size_t kMaxStreams = 1000;
inline constexpr size_t kMaxPathBytes = 1024;
inline constexpr size_t kMaxDescriptionBytes = 4096;
inline constexpr size_t kMaxParameters = 64;
inline constexpr size_t kMaxParameterNameBytes = 128;
inline constexpr size_t kMaxParameterValueBytes = 16384;

// Checks a config after ApplyDefaults(). Errors are InvalidArgument and name
// the field path and the value:
//   "config.yaml:14:11: listeners[1].port: 70000 is out of range (0..65535)"
// The "file:line:column" prefix appears when `locations` knows the field.
class ConfigValidator {
 public:
  // `locations` may be null; it must outlive the validator otherwise.
  explicit ConfigValidator(const common::SourceMap* locations = nullptr) : locations_(locations) {}

  // Returns the first problem found, or OK.
  absl::Status Validate(const v1::ServerConfig& config) const;
  // Checks one stream on its own against `config`'s listeners (not against
  // the other streams), as the control API creates it; errors name the
  // fields below `field`, e.g. "stream.path: 'cam1' must start with '/'".
  absl::Status ValidateStream(const v1::ServerConfig& config, const v1::Stream& stream,
                              absl::string_view field) const;

 private:
  absl::Status ValidateListeners(const v1::ServerConfig& config) const;
  absl::Status ValidateStreams(const v1::ServerConfig& config) const;
  absl::Status ValidateGlobals(const v1::ServerConfig& config) const;
  // A stream's auth: username printable ASCII without ':' or spaces,
  // password printable ASCII; errors name `field` ("streams[0].auth")
  // and never show the password.
  absl::Status ValidateStreamAuth(const v1::StreamAuth& auth, const std::string& field) const;
  // control.token, control.token_file and control.tls: the files are read.
  absl::Status ValidateControlSecurity(const v1::ControlPlane& control) const;
  absl::Status Error(absl::string_view path, absl::string_view message) const;

  const common::SourceMap* locations_;
};

}  // namespace rtsptest::config

#endif  // RTSPTEST_CONFIG_CONFIG_VALIDATOR_H_
