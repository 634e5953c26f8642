// Load-time descriptor checks; see descriptor_checks.h.
#include "core/plugin_host/descriptor_checks.h"

#include <cmath>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/plugin_host/parameter_validator.h"

namespace rtsptest::core {
namespace {

// [a-z][a-z0-9_]*, as rts_plugin.h promises: such names are safe as config
// keys, command-line flags and environment variable suffixes.
bool IsValidParameterName(absl::string_view name) {
  if (name.empty() || !absl::ascii_islower(name[0])) return false;
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_') {
      return false;
    }
  }
  return true;
}

absl::Status CheckOneParameter(const rts_param_spec& spec) {
  const std::string where = absl::StrCat("parameter '", spec.name, "'");
  switch (spec.type) {
    case RTS_PARAM_TYPE_INT:
    case RTS_PARAM_TYPE_DOUBLE:
      if (std::isnan(spec.min) || std::isnan(spec.max)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": min and max must be numbers, not NaN"));
      }
      if (spec.min > spec.max) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": min ", spec.min, " is greater than max ", spec.max));
      }
      break;
    case RTS_PARAM_TYPE_BOOL:
    case RTS_PARAM_TYPE_STRING:
      break;
    case RTS_PARAM_TYPE_ENUM:
      if (spec.allowed_values == nullptr || spec.allowed_values[0] == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": type ENUM needs a non-empty allowed_values list"));
      }
      break;
    case RTS_PARAM_TYPE_UNSPECIFIED:
      return absl::InvalidArgumentError(absl::StrCat(where, ": type is unspecified"));
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": unknown type ", static_cast<int>(spec.type)));
  }
  if (spec.default_value != nullptr) {
    absl::StatusOr<std::string> valid = ValidateParameterValue(spec, spec.default_value);
    if (!valid.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": default value '",
                                                     PrintableValue(spec.default_value),
                                                     "' is invalid: ", valid.status().message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckAbiVersion(const rts_plugin_descriptor& descriptor) {
  const std::string versions =
      absl::StrCat("ABI ", descriptor.abi_major, ".", descriptor.abi_minor, ", host supports ",
                   RTS_PLUGIN_ABI_MAJOR, ".", RTS_PLUGIN_ABI_MINOR);
  if (descriptor.abi_major != RTS_PLUGIN_ABI_MAJOR) {
    return absl::FailedPreconditionError(absl::StrCat(versions, " (major must match)"));
  }
  if (descriptor.abi_minor > RTS_PLUGIN_ABI_MINOR) {
    return absl::FailedPreconditionError(
        absl::StrCat(versions, " (minor is newer than the host: upgrade the server)"));
  }
  return absl::OkStatus();
}

absl::Status CheckParameterSchema(const rts_param_spec* specs, size_t count) {
  if (count > kMaxPluginParameters) {
    return absl::InvalidArgumentError(
        absl::StrCat("param_count ", count, " exceeds the limit of ", kMaxPluginParameters));
  }
  if (count > 0 && specs == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("param_count is ", count, " but params is NULL"));
  }
  std::set<absl::string_view> seen;
  for (size_t i = 0; i < count; ++i) {
    const rts_param_spec& spec = specs[i];
    if (spec.name == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("parameter #", i, " has a NULL name"));
    }
    if (!IsValidParameterName(spec.name)) {
      return absl::InvalidArgumentError(absl::StrCat("parameter '", PrintableValue(spec.name),
                                                     "': name must match [a-z][a-z0-9_]*"));
    }
    if (!seen.insert(spec.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter '", spec.name, "' is declared twice"));
    }
    absl::Status status = CheckOneParameter(spec);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status CheckDescriptor(const rts_plugin_descriptor& descriptor,
                             absl::string_view expected_name) {
  absl::Status abi = CheckAbiVersion(descriptor);
  if (!abi.ok()) return abi;
  if (descriptor.name == nullptr) {
    return absl::InvalidArgumentError("descriptor name is NULL");
  }
  if (descriptor.name != expected_name) {
    return absl::InvalidArgumentError(
        absl::StrCat("descriptor name '", PrintableValue(descriptor.name),
                     "' does not match the file name (lib", expected_name, ".so)"));
  }
  if (descriptor.version == nullptr) {
    return absl::InvalidArgumentError("descriptor version is NULL");
  }
  if (descriptor.description == nullptr) {
    return absl::InvalidArgumentError("descriptor description is NULL");
  }
  if (descriptor.create == nullptr) {
    return absl::InvalidArgumentError("descriptor has no create function");
  }
  return CheckParameterSchema(descriptor.params, descriptor.param_count);
}

}  // namespace rtsptest::core
