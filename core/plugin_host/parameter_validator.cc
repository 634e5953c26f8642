// Parameter validation against a plugin's schema; see parameter_validator.h.
#include "core/plugin_host/parameter_validator.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rtsptest::core {
namespace {

// The schema's convention: min == max == 0 means "no range".
bool HasRange(const rts_param_spec& spec) { return !(spec.min == 0 && spec.max == 0); }

// Prints a range bound as people wrote it: "120" rather than "120.000000".
std::string FormatBound(double bound) {
  if (std::floor(bound) == bound && std::fabs(bound) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(bound));
  }
  return absl::StrCat(bound);
}

absl::Status CheckRange(const rts_param_spec& spec, double value) {
  if (HasRange(spec) && (value < spec.min || value > spec.max)) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be in ", FormatBound(spec.min), "..", FormatBound(spec.max)));
  }
  return absl::OkStatus();
}

// Plain decimal only: the plugin side parses with strtoll, and accepting what
// strtoll would silently truncate ("12abc", " 7") would hide config mistakes.
absl::StatusOr<std::string> ValidateInt(const rts_param_spec& spec, absl::string_view value) {
  absl::string_view digits = value;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    digits.remove_prefix(1);
  }
  const bool all_digits = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
    return absl::ascii_isdigit(c);
  });
  int64_t parsed = 0;
  if (!all_digits) return absl::InvalidArgumentError("not an integer");
  if (!absl::SimpleAtoi(value, &parsed)) {
    return absl::InvalidArgumentError("not an integer (out of 64-bit range)");
  }
  absl::Status range = CheckRange(spec, static_cast<double>(parsed));
  if (!range.ok()) return range;
  return absl::StrCat(parsed);  // canonical: "+007" -> "7"
}

// Decimal or scientific notation only; "nan", "inf" and hex floats parse with
// strtod but make no sense as stream settings.
absl::StatusOr<std::string> ValidateDouble(const rts_param_spec& spec, absl::string_view value) {
  const bool allowed_chars =
      !value.empty() && value.find_first_not_of("0123456789+-.eE") == absl::string_view::npos;
  double parsed = 0;
  if (!allowed_chars || !absl::SimpleAtod(value, &parsed) || !std::isfinite(parsed)) {
    return absl::InvalidArgumentError("not a number");
  }
  absl::Status range = CheckRange(spec, parsed);
  if (!range.ok()) return range;
  return std::string(value);
}

// Config files spell booleans many ways; plugins only ever see "true"/"false".
absl::StatusOr<std::string> ValidateBool(absl::string_view value) {
  const std::string lower = absl::AsciiStrToLower(value);
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") {
    return std::string("true");
  }
  if (lower == "false" || lower == "no" || lower == "off" || lower == "0") {
    return std::string("false");
  }
  return absl::InvalidArgumentError("must be true or false (or yes/no, on/off, 1/0)");
}

// Exact match first; a case-insensitive match is accepted too and returned in
// the schema's spelling, so "H264" works but the plugin still sees "h264".
absl::StatusOr<std::string> ValidateEnum(const rts_param_spec& spec, absl::string_view value) {
  std::vector<absl::string_view> allowed;
  for (const char* const* v = spec.allowed_values; v != nullptr && *v != nullptr; ++v) {
    if (value == *v) return std::string(*v);
    allowed.push_back(*v);
  }
  for (absl::string_view candidate : allowed) {
    if (absl::EqualsIgnoreCase(value, candidate)) return std::string(candidate);
  }
  return absl::InvalidArgumentError(absl::StrCat("must be one of ", absl::StrJoin(allowed, ", ")));
}

const rts_param_spec* FindSpec(const rts_param_spec* specs, size_t count, absl::string_view name) {
  for (size_t i = 0; i < count; ++i) {
    if (name == specs[i].name) return &specs[i];
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::string> ValidateParameterValue(const rts_param_spec& spec,
                                                   absl::string_view value) {
  // Values cross the ABI as C strings: an embedded NUL would silently cut
  // the value short on the plugin side.
  if (value.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("contains a NUL byte");
  }
  switch (spec.type) {
    case RTS_PARAM_TYPE_INT:
      return ValidateInt(spec, value);
    case RTS_PARAM_TYPE_DOUBLE:
      return ValidateDouble(spec, value);
    case RTS_PARAM_TYPE_BOOL:
      return ValidateBool(value);
    case RTS_PARAM_TYPE_STRING:
      return std::string(value);
    case RTS_PARAM_TYPE_ENUM:
      return ValidateEnum(spec, value);
    case RTS_PARAM_TYPE_UNSPECIFIED:
      break;
  }
  // Unreachable for a schema that passed CheckParameterSchema.
  return absl::InvalidArgumentError(
      absl::StrCat("has an unsupported type ", static_cast<int>(spec.type)));
}

absl::StatusOr<ParameterList> ValidateParameters(const rts_param_spec* specs, size_t count,
                                                 const std::map<std::string, std::string>& raw) {
  for (const auto& entry : raw) {
    if (FindSpec(specs, count, entry.first) == nullptr) {
      const std::string known = count == 0
                                    ? "this plugin takes no parameters"
                                    : absl::StrCat("known: ", JoinParameterNames(specs, count));
      return absl::InvalidArgumentError(
          absl::StrCat("unknown parameter '", PrintableValue(entry.first), "' (", known, ")"));
    }
  }
  ParameterList validated;
  validated.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const rts_param_spec& spec = specs[i];
    const auto it = raw.find(spec.name);
    if (it == raw.end() && spec.default_value == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("missing required parameter '", spec.name, "'"));
    }
    // Defaults go through validation too, only to get their canonical form
    // (a default of "yes" reaches the plugin as "true").
    const absl::string_view value =
        it != raw.end() ? absl::string_view(it->second) : spec.default_value;
    absl::StatusOr<std::string> canonical = ValidateParameterValue(spec, value);
    if (!canonical.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "parameter ", spec.name, "=", PrintableValue(value), ": ", canonical.status().message()));
    }
    validated.emplace_back(spec.name, *std::move(canonical));
  }
  return validated;
}

std::string JoinParameterNames(const rts_param_spec* specs, size_t count) {
  std::vector<absl::string_view> names;
  names.reserve(count);
  for (size_t i = 0; i < count; ++i) names.push_back(specs[i].name);
  return absl::StrJoin(names, ", ");
}

std::string PrintableValue(absl::string_view value) {
  for (char c : value) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return absl::CEscape(value);
  }
  return std::string(value);
}

}  // namespace rtsptest::core
