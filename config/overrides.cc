// Command-line and environment overrides of the config file (see header).
#include "config/overrides.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/port_list/port_list.h"
#include "common/proto_yaml/proto_yaml_mapper.h"
#include "common/proto_yaml/source_map.h"
#include "config/config_validator.h"
#include "config/control_files.h"
#include "google/protobuf/descriptor.h"

namespace rtsptest::config {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// What a knob needs beyond "set its field with the file's scalar rules".
struct OverrideRules {
  // Checks a value of a knob that is not one field (null: the field's rules).
  absl::Status (*check)(absl::string_view value, OverrideSource source) = nullptr;
  // Applies a knob that is not one field (null: set the field, attribute it).
  void (*apply)(const ConfigOverrides::Setting& setting, v1::ServerConfig* config,
                common::SourceMap* locations) = nullptr;
  // Unsigned fields: the largest value accepted (0: the type's own).
  uint32_t max_unsigned = 0;
  // Duration fields: when positive, values must be in 0..max_duration.
  absl::Duration max_duration = absl::ZeroDuration();
  // Enum fields: what a value is called in errors ("log level").
  const char* value_name = "value";
  // Enum fields: one more spelling, e.g. "warn" for "warning".
  const char* alias = nullptr;
  const char* alias_of = nullptr;
  // The value is a secret: errors and origins show "<redacted>" instead.
  bool secret = false;
};

namespace {

// The separator of list values: ',' on a command line, ':' in a variable.
char ListSeparator(OverrideSource source) { return source == OverrideSource::kFlag ? ',' : ':'; }

// Replaces the listeners by one per port (the "different count" branch of
// the rtsp_ports knob).
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

absl::Status CheckPorts(absl::string_view value, OverrideSource) {
  return common::ParsePortList(value).status();
}

void ApplyPorts(const ConfigOverrides::Setting& setting, v1::ServerConfig* config,
                common::SourceMap* locations) {
  absl::StatusOr<std::vector<uint32_t>> ports = common::ParsePortList(setting.value);
  if (!ports.ok() || ports->empty()) return;  // Set() checked it
  if (ports->size() == static_cast<size_t>(config->listeners_size())) {
    ReplacePorts(*ports, config);
  } else {
    ReplaceListeners(*ports, config);
  }
  locations->Attribute("listeners", setting.origin);
  // References may have been renamed or cleared: no longer the file's.
  for (int i = 0; i < config->streams_size(); ++i) {
    locations->Forget(absl::StrCat("streams[", i, "].listeners"));
  }
}

// Addresses are checked when the final config is validated (the error then
// names listeners[i].bind_address); a flag may still override a bad value.
absl::Status AnyText(absl::string_view, OverrideSource) { return absl::OkStatus(); }

void ApplyBind(const ConfigOverrides::Setting& setting, v1::ServerConfig* config,
               common::SourceMap* locations) {
  for (int i = 0; i < config->listeners_size(); ++i) {
    config->mutable_listeners(i)->set_bind_address(setting.value);
    locations->Attribute(absl::StrCat("listeners[", i, "].bind_address"), setting.origin);
  }
  config->mutable_control()->set_bind_address(setting.value);
  locations->Attribute("control.bind_address", setting.origin);
}

absl::Status CheckPluginDirs(absl::string_view value, OverrideSource source) {
  int position = 0;
  for (absl::string_view dir : absl::StrSplit(value, ListSeparator(source))) {
    ++position;
    if (dir.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("item ", position, " is empty"));
    }
  }
  return absl::OkStatus();
}

void ApplyPluginDirs(const ConfigOverrides::Setting& setting, v1::ServerConfig* config,
                     common::SourceMap* locations) {
  config->clear_plugin_dirs();
  for (absl::string_view dir : absl::StrSplit(setting.value, ListSeparator(setting.source))) {
    config->add_plugin_dirs(std::string(dir));
  }
  locations->Attribute("plugin_dirs", setting.origin);
}

// The rules named in override_knobs.inc.
constexpr OverrideRules kPlain;
constexpr OverrideRules kRtspPorts{&CheckPorts, &ApplyPorts};
constexpr OverrideRules kBind{&AnyText, &ApplyBind};
constexpr OverrideRules kPluginDirs{&CheckPluginDirs, &ApplyPluginDirs};
constexpr OverrideRules kPort{nullptr, nullptr, kMaxPort};
constexpr OverrideRules kDrainTimeout{nullptr, nullptr, 0, kMaxDrainTimeout};
// The control token: checked here, so that the error (which must not quote
// it) names the source; never shown.
absl::Status CheckToken(absl::string_view value, OverrideSource) {
  return CheckControlToken(value);
}
void ApplyToken(const ConfigOverrides::Setting& setting, v1::ServerConfig* config,
                common::SourceMap* locations) {
  config->mutable_control()->set_token(setting.value);
  locations->Attribute("control.token", setting.origin);
}
constexpr OverrideRules kSecretToken{&CheckToken, &ApplyToken, 0,       absl::ZeroDuration(),
                                     "value",     nullptr,     nullptr, true};
constexpr OverrideRules kLogLevel{nullptr,     nullptr, 0,        absl::ZeroDuration(),
                                  "log level", "warn",  "warning"};

#define RTS_OVERRIDE_KNOB(flag, env, field, rules, help) {#flag, env, field, help, &rules},
constexpr OverrideKnob kKnobs[] = {
#include "config/override_knobs.inc"
};
#undef RTS_OVERRIDE_KNOB

// The value the field parser sees: the alias resolved.
absl::string_view Canonical(const OverrideRules& rules, absl::string_view value) {
  if (rules.alias != nullptr && absl::EqualsIgnoreCase(value, rules.alias)) return rules.alias_of;
  return value;
}

// The message that directly holds the field at `path` (intermediate
// messages must exist: SetFieldFromText created them).
const Message& Holder(const Message& root, absl::string_view path) {
  const Message* message = &root;
  std::vector<absl::string_view> names = absl::StrSplit(path, '.');
  for (size_t i = 0; i + 1 < names.size(); ++i) {
    const FieldDescriptor* field = common::FindFieldPath(message->GetDescriptor(), names[i]);
    message = &message->GetReflection()->GetMessage(*message, field);
  }
  return *message;
}

// Sets the knob's field in `config` from `value`, with the file's scalar
// rules and the knob's limits. Errors have no source; Set() adds it. The
// wording of bools, bounded integers and enums is the one these knobs have
// always had (scripts match it), not the file's.
absl::Status SetField(const OverrideKnob& knob, absl::string_view value, v1::ServerConfig* config) {
  const OverrideRules& rules = *knob.rules;
  const FieldDescriptor* field = common::FindFieldPath(config->GetDescriptor(), knob.field);
  absl::Status status = common::SetFieldFromText(knob.field, Canonical(rules, value), config);
  if (field == nullptr) return status;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      if (!status.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("'", value, "' is not true or false"));
      }
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t number = 0;
      if (rules.max_unsigned != 0 &&
          (!status.ok() || !absl::SimpleAtoi(value, &number) || number > rules.max_unsigned)) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", value, "' is not a whole number in 0..", rules.max_unsigned));
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_ENUM:
      // *_UNSPECIFIED = 0 means "not set": not something to set.
      if (!status.ok() || Holder(*config, knob.field)
                                  .GetReflection()
                                  ->GetEnumValue(Holder(*config, knob.field), field) == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown ", rules.value_name, " '", value,
                         "' (expected one of: ", common::EnumChoices(field->enum_type()), ")"));
      }
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (status.ok() && rules.max_duration > absl::ZeroDuration()) {
        absl::StatusOr<absl::Duration> duration = common::ParseConfigDuration(value);
        if (!duration.ok()) return duration.status();
        if (*duration < absl::ZeroDuration() || *duration > rules.max_duration) {
          return absl::InvalidArgumentError(
              absl::StrCat("out of range (0s..", absl::FormatDuration(rules.max_duration), ")"));
        }
      }
      break;
    default:
      break;
  }
  return status;
}

// The value of `name`, or nullopt when it is unset or empty.
std::optional<std::string> GetEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

}  // namespace

absl::Span<const OverrideKnob> OverrideKnobs() { return kKnobs; }

bool IsSecretKnob(const OverrideKnob& knob) { return knob.rules->secret; }

const OverrideKnob* FindOverrideKnob(absl::string_view flag) {
  for (const OverrideKnob& knob : kKnobs) {
    if (knob.flag == flag) return &knob;
  }
  return nullptr;
}

std::string OverrideSourceName(const OverrideKnob& knob, OverrideSource source) {
  return source == OverrideSource::kFlag ? absl::StrCat("--", knob.flag) : knob.env;
}

absl::Status ConfigOverrides::Set(const OverrideKnob& knob, OverrideSource source,
                                  absl::string_view value) {
  absl::Status status;
  if (knob.rules->check != nullptr) {
    status = knob.rules->check(value, source);
  } else {
    v1::ServerConfig scratch;
    status = SetField(knob, value, &scratch);
  }
  std::string name = OverrideSourceName(knob, source);
  const absl::string_view shown = knob.rules->secret ? kRedacted : value;
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(name, "='", shown, "': ", status.message()));
  }
  Setting setting{&knob, source, std::string(value), absl::StrCat(name, "=", shown)};
  for (Setting& existing : settings) {
    if (existing.knob == &knob) {
      existing = std::move(setting);
      return absl::OkStatus();
    }
  }
  settings.push_back(std::move(setting));
  return absl::OkStatus();
}

absl::Status ConfigOverrides::Set(absl::string_view flag, OverrideSource source,
                                  absl::string_view value) {
  const OverrideKnob* knob = FindOverrideKnob(flag);
  if (knob == nullptr)
    return absl::InvalidArgumentError(absl::StrCat("no override knob '", flag, "'"));
  return Set(*knob, source, value);
}

const ConfigOverrides::Setting* ConfigOverrides::Find(absl::string_view flag) const {
  for (const Setting& setting : settings) {
    if (setting.knob->flag == flag) return &setting;
  }
  return nullptr;
}

absl::StatusOr<ConfigOverrides> OverridesFromEnvironment() {
  ConfigOverrides overrides;
  overrides.config_path = GetEnv(kEnvConfig);
  for (const OverrideKnob& knob : kKnobs) {
    if (std::optional<std::string> value = GetEnv(knob.env)) {
      absl::Status status = overrides.Set(knob, OverrideSource::kEnvironment, *value);
      if (!status.ok()) return status;
    }
  }
  return overrides;
}

void ApplyOverrides(const ConfigOverrides& overrides, v1::ServerConfig* config,
                    common::SourceMap* locations) {
  common::SourceMap ignored;
  if (locations == nullptr) locations = &ignored;
  for (const OverrideKnob& knob : kKnobs) {
    const ConfigOverrides::Setting* setting = overrides.Find(knob.flag);
    if (setting == nullptr) continue;
    if (knob.rules->apply != nullptr) {
      knob.rules->apply(*setting, config, locations);
      continue;
    }
    // Set() checked the value, so this cannot fail.
    SetField(knob, setting->value, config).IgnoreError();
    locations->Attribute(knob.field, setting->origin);
  }
}

absl::StatusOr<v1::Logging::Level> ParseLogLevel(absl::string_view text) {
  v1::ServerConfig scratch;
  absl::Status status = SetField(*FindOverrideKnob("log_level"), text, &scratch);
  if (!status.ok()) return status;
  return scratch.logging().level();
}

}  // namespace rtsptest::config
