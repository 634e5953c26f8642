// Command-line and environment overrides of the config file (see header).
#include "config/overrides.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "config/config_validator.h"
#include "config/proto_yaml_mapper.h"
#include "common/time/proto_time.h"

namespace rtsptest::config {
namespace {

// The value of `name`, or nullopt when it is unset or empty.
std::optional<std::string> GetEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

absl::Status EnvError(const char* name, absl::string_view value, const absl::Status& status) {
  return absl::InvalidArgumentError(absl::StrCat(name, "='", value, "': ", status.message()));
}

// How a variable's value is named in errors: "RTSP_TEST_MIN_HEALTHY=9".
std::string EnvOrigin(const char* name, absl::string_view value) { return absl::StrCat(name, "=", value); }

// Replaces the listeners by one per port (the "different count" branch of
// ConfigOverrides::rtsp_ports).
void ReplaceListeners(const std::vector<uint32_t>& ports, v1::ServerConfig* config) {
  absl::flat_hash_set<std::string> addresses;
  for (const v1::Listener& listener : config->listeners()) {
    addresses.insert(listener.bind_address());
  }
  std::string bind = addresses.size() == 1 ? *addresses.begin() : "";
  config->clear_listeners();
  for (size_t i = 0; i < ports.size(); ++i) {
    v1::Listener* listener = config->add_listeners();
    listener->set_name(DefaultListenerName(ports[i], static_cast<int>(i)));
    listener->set_bind_address(bind);
    listener->set_port(ports[i]);
  }
  for (v1::Stream& stream : *config->mutable_streams()) stream.clear_listeners();
}

// Changes each listener's port in place (the "same count" branch).
void ReplacePorts(const std::vector<uint32_t>& ports, v1::ServerConfig* config) {
  absl::flat_hash_map<std::string, std::string> renames;
  for (int i = 0; i < config->listeners_size(); ++i) {
    v1::Listener* listener = config->mutable_listeners(i);
    // An unnamed listener is already known by its default name, and streams
    // may refer to it that way.
    std::string old_name =
        listener->name().empty() ? DefaultListenerName(listener->port(), i) : listener->name();
    if (old_name == DefaultListenerName(listener->port(), i)) {
      std::string new_name = DefaultListenerName(ports[i], i);
      if (new_name != old_name) renames[old_name] = new_name;
      listener->set_name(new_name);
    }
    listener->set_port(ports[i]);
  }
  if (renames.empty()) return;
  // One lookup per reference, so swapped ports (8554,8555 -> 8555,8554)
  // rename correctly instead of chaining.
  for (v1::Stream& stream : *config->mutable_streams()) {
    for (std::string& name : *stream.mutable_listeners()) {
      auto it = renames.find(name);
      if (it != renames.end()) name = it->second;
    }
  }
}

}  // namespace

absl::StatusOr<std::vector<uint32_t>> ParsePortList(absl::string_view text) {
  if (absl::StripAsciiWhitespace(text).empty()) {
    return absl::InvalidArgumentError("the port list is empty");
  }
  std::vector<uint32_t> ports;
  absl::flat_hash_set<uint32_t> seen;
  int position = 0;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    ++position;
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("item ", position, " is empty"));
    }
    if (!std::all_of(item.begin(), item.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); })) {
      return absl::InvalidArgumentError(
          absl::StrCat("item ", position, ": '", item, "' is not a port number"));
    }
    uint64_t port;
    // SimpleAtoi fails only on overflow here: the item is all digits.
    if (!absl::SimpleAtoi(item, &port) || port > kMaxPort) {
      return absl::InvalidArgumentError(
          absl::StrCat("item ", position, ": ", item, " is out of range (0..", kMaxPort, ")"));
    }
    if (port != 0 && !seen.insert(static_cast<uint32_t>(port)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("item ", position, ": port ", port, " is listed twice"));
    }
    ports.push_back(static_cast<uint32_t>(port));
  }
  return ports;
}

absl::StatusOr<v1::Logging::Level> ParseLogLevel(absl::string_view text) {
  const auto* type = v1::Logging::Level_descriptor();
  std::vector<std::string> choices;
  for (int i = 0; i < type->value_count(); ++i) {
    const auto* value = type->value(i);
    if (value->number() == v1::Logging::LEVEL_UNSPECIFIED) continue;
    if (absl::EqualsIgnoreCase(value->name(), text)) {
      return static_cast<v1::Logging::Level>(value->number());
    }
    choices.push_back(absl::AsciiStrToLower(value->name()));
  }
  if (absl::EqualsIgnoreCase(text, "warn")) return v1::Logging::WARNING;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown log level '", text, "' (expected one of: ", absl::StrJoin(choices, ", "), ")"));
}

absl::StatusOr<ConfigOverrides> OverridesFromEnvironment() {
  ConfigOverrides overrides;
  overrides.config_path = GetEnv(kEnvConfig);

  if (auto value = GetEnv(kEnvRtspPorts)) {
    auto ports = ParsePortList(*value);
    if (!ports.ok()) return EnvError(kEnvRtspPorts, *value, ports.status());
    overrides.rtsp_ports = *std::move(ports);
    overrides.origins.rtsp_ports = EnvOrigin(kEnvRtspPorts, *value);
  }

  // Checked when the final config is validated (the error then names
  // listeners[i].bind_address); a flag may still override a bad value.
  overrides.bind = GetEnv(kEnvBind);
  if (overrides.bind) overrides.origins.bind = EnvOrigin(kEnvBind, *overrides.bind);
  overrides.grpc_bind = GetEnv(kEnvGrpcBind);
  if (overrides.grpc_bind) overrides.origins.grpc_bind = EnvOrigin(kEnvGrpcBind, *overrides.grpc_bind);

  if (auto value = GetEnv(kEnvPluginDir)) {
    int position = 0;
    for (absl::string_view dir : absl::StrSplit(*value, ':')) {
      ++position;
      if (dir.empty()) {
        return EnvError(kEnvPluginDir, *value,
                        absl::InvalidArgumentError(absl::StrCat("item ", position, " is empty")));
      }
      overrides.plugin_dirs.emplace_back(dir);
    }
    overrides.origins.plugin_dirs = EnvOrigin(kEnvPluginDir, *value);
  }

  if (auto value = GetEnv(kEnvLogLevel)) {
    auto level = ParseLogLevel(*value);
    if (!level.ok()) return EnvError(kEnvLogLevel, *value, level.status());
    overrides.log_level = *level;
    overrides.origins.log_level = EnvOrigin(kEnvLogLevel, *value);
  }

  if (auto value = GetEnv(kEnvDrainTimeout)) {
    auto drain = ParseConfigDuration(*value);
    if (!drain.ok()) return EnvError(kEnvDrainTimeout, *value, drain.status());
    if (*drain < absl::ZeroDuration() || *drain > kMaxDrainTimeout) {
      return EnvError(kEnvDrainTimeout, *value,
                      absl::InvalidArgumentError(absl::StrCat(
                          "out of range (0s..", absl::FormatDuration(kMaxDrainTimeout), ")")));
    }
    overrides.drain_timeout = *drain;
    overrides.origins.drain_timeout = EnvOrigin(kEnvDrainTimeout, *value);
  }

  if (auto value = GetEnv(kEnvGrpcPort)) {
    auto port = ParseBoundedUint(*value, kMaxPort);
    if (!port.ok()) return EnvError(kEnvGrpcPort, *value, port.status());
    overrides.grpc_port = *port;
    overrides.origins.grpc_port = EnvOrigin(kEnvGrpcPort, *value);
  }
  if (auto value = GetEnv(kEnvMinHealthy)) {
    auto k = ParseBoundedUint(*value, kMaxPort);
    if (!k.ok()) return EnvError(kEnvMinHealthy, *value, k.status());
    overrides.min_healthy = *k;
    overrides.origins.min_healthy = EnvOrigin(kEnvMinHealthy, *value);
  }
  for (auto [name, target, origin] :
       {std::tuple{kEnvProbeInterval, &overrides.probe_interval, &overrides.origins.probe_interval},
        std::tuple{kEnvProbeTimeout, &overrides.probe_timeout, &overrides.origins.probe_timeout},
        std::tuple{kEnvStallTimeout, &overrides.stall_timeout, &overrides.origins.stall_timeout}}) {
    if (auto value = GetEnv(name)) {
      auto duration = ParseConfigDuration(*value);
      if (!duration.ok()) return EnvError(name, *value, duration.status());
      *target = *duration;
      *origin = EnvOrigin(name, *value);
    }
  }
  for (auto [name, target, origin] :
       {std::tuple{kEnvDeepCheck, &overrides.deep_check, &overrides.origins.deep_check},
        std::tuple{kEnvRequireLiveStreams, &overrides.require_live_streams,
                   &overrides.origins.require_live_streams}}) {
    if (auto value = GetEnv(name)) {
      auto parsed = ParseBool(*value);
      if (!parsed.ok()) return EnvError(name, *value, parsed.status());
      *target = *parsed;
      *origin = EnvOrigin(name, *value);
    }
  }
  return overrides;
}

absl::StatusOr<bool> ParseBool(absl::string_view text) {
  if (absl::EqualsIgnoreCase(text, "true")) return true;
  if (absl::EqualsIgnoreCase(text, "false")) return false;
  return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not true or false"));
}

absl::StatusOr<uint32_t> ParseBoundedUint(absl::string_view text, uint32_t max) {
  uint32_t value = 0;
  if (text.empty() || !absl::c_all_of(text, absl::ascii_isdigit) || !absl::SimpleAtoi(text, &value) ||
      value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a whole number in 0..", max));
  }
  return value;
}

void ApplyOverrides(const ConfigOverrides& overrides, v1::ServerConfig* config,
                    SourceMap* locations) {
  SourceMap ignored;
  if (locations == nullptr) locations = &ignored;
  const ConfigOverrides::Origins& origins = overrides.origins;
  if (overrides.rtsp_ports.has_value() && !overrides.rtsp_ports->empty()) {
    const std::vector<uint32_t>& ports = *overrides.rtsp_ports;
    if (ports.size() == static_cast<size_t>(config->listeners_size())) {
      ReplacePorts(ports, config);
    } else {
      ReplaceListeners(ports, config);
    }
    locations->Attribute("listeners", origins.rtsp_ports);
    // References may have been renamed or cleared: no longer the file's.
    for (int i = 0; i < config->streams_size(); ++i) {
      locations->Forget(absl::StrCat("streams[", i, "].listeners"));
    }
  }
  if (overrides.bind.has_value()) {
    for (int i = 0; i < config->listeners_size(); ++i) {
      config->mutable_listeners(i)->set_bind_address(*overrides.bind);
      locations->Attribute(absl::StrCat("listeners[", i, "].bind_address"), origins.bind);
    }
    config->mutable_control()->set_bind_address(*overrides.bind);
    locations->Attribute("control.bind_address", origins.bind);
  }
  if (overrides.grpc_bind.has_value()) {
    config->mutable_control()->set_bind_address(*overrides.grpc_bind);
    locations->Attribute("control.bind_address", origins.grpc_bind);
  }
  if (!overrides.plugin_dirs.empty()) {
    config->clear_plugin_dirs();
    for (const std::string& dir : overrides.plugin_dirs) config->add_plugin_dirs(dir);
    locations->Attribute("plugin_dirs", origins.plugin_dirs);
  }
  if (overrides.log_level.has_value()) {
    config->mutable_logging()->set_level(*overrides.log_level);
    locations->Attribute("logging.level", origins.log_level);
  }
  if (overrides.grpc_port.has_value()) {
    config->mutable_control()->set_port(*overrides.grpc_port);
    locations->Attribute("control.port", origins.grpc_port);
  }
  if (overrides.min_healthy.has_value()) {
    config->mutable_health()->set_min_healthy_listeners(*overrides.min_healthy);
    locations->Attribute("health.min_healthy_listeners", origins.min_healthy);
  }
  if (overrides.probe_interval.has_value()) {
    *config->mutable_health()->mutable_probe_interval() = ToProtoDuration(*overrides.probe_interval);
    locations->Attribute("health.probe_interval", origins.probe_interval);
  }
  if (overrides.probe_timeout.has_value()) {
    *config->mutable_health()->mutable_probe_timeout() = ToProtoDuration(*overrides.probe_timeout);
    locations->Attribute("health.probe_timeout", origins.probe_timeout);
  }
  if (overrides.deep_check.has_value()) {
    config->mutable_health()->set_deep_check(*overrides.deep_check);
    locations->Attribute("health.deep_check", origins.deep_check);
  }
  if (overrides.stall_timeout.has_value()) {
    *config->mutable_health()->mutable_stall_timeout() = ToProtoDuration(*overrides.stall_timeout);
    locations->Attribute("health.stall_timeout", origins.stall_timeout);
  }
  if (overrides.require_live_streams.has_value()) {
    config->mutable_health()->set_require_live_streams(*overrides.require_live_streams);
    locations->Attribute("health.require_live_streams", origins.require_live_streams);
  }
  if (overrides.drain_timeout.has_value()) {
    *config->mutable_drain_timeout() = ToProtoDuration(*overrides.drain_timeout);
    locations->Attribute("drain_timeout", origins.drain_timeout);
  }
}

}  // namespace rtsptest::config
