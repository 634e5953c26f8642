// ProtoYamlMapper: YAML/JSON -> protobuf through reflection (see the header
// for the mapping rules).
#include "common/proto_yaml/proto_yaml_mapper.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"

namespace rtsptest::common {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// google.protobuf.Duration's own limit: +-10,000 years.
constexpr int64_t kMaxDurationSeconds = 315576000000;

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return absl::StrCat("'", node.Scalar(), "'");
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::string JoinPath(const std::string& path, absl::string_view name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

// Optimal string alignment distance (Levenshtein plus transpositions), so
// that "prot" is one edit away from "port".
size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// " (did you mean "plugin"?)" for a near miss, or "".
std::string Suggestion(absl::string_view unknown, const Descriptor* descriptor) {
  std::string wanted = absl::AsciiStrToLower(unknown);
  size_t limit = wanted.size() <= 4 ? 1 : wanted.size() <= 8 ? 2 : 3;
  const FieldDescriptor* best = nullptr;
  size_t best_distance = limit + 1;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    for (const std::string& name : {field->name(), field->json_name()}) {
      size_t distance = EditDistance(wanted, absl::AsciiStrToLower(name));
      if (distance < best_distance) {
        best = field;
        best_distance = distance;
      }
    }
  }
  return best == nullptr ? "" : absl::StrCat(" (did you mean \"", best->name(), "\"?)");
}

// A field by its proto name or its JSON (lowerCamelCase) name.
const FieldDescriptor* FindField(const Descriptor* descriptor, const std::string& name) {
  if (const FieldDescriptor* field = descriptor->FindFieldByName(name)) return field;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    if (descriptor->field(i)->json_name() == name) return descriptor->field(i);
  }
  return nullptr;
}

std::string ExpectedScalar(const FieldDescriptor* field) {
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return "a string";
    case FieldDescriptor::CPPTYPE_BOOL:
      return "true or false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return absl::StrCat("a ", field->enum_type()->name(), " name");
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return "a number";
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return "a map";
    default:
      return "an integer";
  }
}

struct Magnitude {
  bool negative = false;
  bool overflow = false;  // beyond uint64
  uint64_t value = 0;
};

// Splits a decimal integer into sign and magnitude. Written by hand rather
// than with SimpleAtoi so that "-1" for a uint32 reads "out of range", not
// "not a number", and so that hex or YAML 1.1 forms ("0x10", "1_000", "+5")
// are refused instead of guessed at.
bool ParseMagnitude(absl::string_view text, Magnitude* out) {
  absl::string_view digits = text;
  if (absl::ConsumePrefix(&digits, "-")) out->negative = true;
  if (digits.empty() || digits.size() > 1000) return false;
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  if (!absl::SimpleAtoi(digits, &out->value)) out->overflow = true;
  return true;
}

absl::Status OutOfRange(absl::string_view text, absl::string_view type_name, absl::string_view min,
                        absl::string_view max) {
  return absl::InvalidArgumentError(
      absl::StrCat(text, " is out of range for ", type_name, " (", min, "..", max, ")"));
}

absl::StatusOr<int64_t> ParseSigned(absl::string_view text, int64_t min, int64_t max,
                                    absl::string_view type_name) {
  Magnitude m;
  if (!ParseMagnitude(text, &m)) {
    return absl::InvalidArgumentError(absl::StrCat("expected an integer, got '", text, "'"));
  }
  // -min as unsigned, without overflowing int64 for INT64_MIN.
  uint64_t negative_limit = static_cast<uint64_t>(-(min + 1)) + 1;
  bool in_range = !m.overflow &&
                  (m.negative ? m.value <= negative_limit : m.value <= static_cast<uint64_t>(max));
  if (!in_range) return OutOfRange(text, type_name, absl::StrCat(min), absl::StrCat(max));
  if (!m.negative) return static_cast<int64_t>(m.value);
  return m.value == negative_limit ? min : -static_cast<int64_t>(m.value);
}

absl::StatusOr<uint64_t> ParseUnsigned(absl::string_view text, uint64_t max,
                                       absl::string_view type_name) {
  Magnitude m;
  if (!ParseMagnitude(text, &m)) {
    return absl::InvalidArgumentError(absl::StrCat("expected an integer, got '", text, "'"));
  }
  if (m.overflow || (m.negative && m.value != 0) || m.value > max) {
    return OutOfRange(text, type_name, "0", absl::StrCat(max));
  }
  return m.value;
}

absl::StatusOr<const EnumValueDescriptor*> ParseEnum(absl::string_view text,
                                                     const EnumDescriptor* type) {
  for (int i = 0; i < type->value_count(); ++i) {
    if (absl::EqualsIgnoreCase(type->value(i)->name(), text)) return type->value(i);
  }
  int number;
  if (absl::SimpleAtoi(text, &number)) {
    if (const EnumValueDescriptor* value = type->FindValueByNumber(number)) return value;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown value '", text, "' (expected one of: ", EnumChoices(type), ")"));
}

bool IsDuration(const Descriptor* descriptor) {
  return descriptor->full_name() == "google.protobuf.Duration";
}

// Sets a Duration message from text such as "2s" (see ParseConfigDuration).
absl::Status SetDuration(absl::string_view text, Message* duration) {
  absl::StatusOr<absl::Duration> parsed = ParseConfigDuration(text);
  if (!parsed.ok()) return parsed.status();
  absl::Duration remainder;
  int64_t seconds = absl::IDivDuration(*parsed, absl::Seconds(1), &remainder);
  if (seconds > kMaxDurationSeconds || seconds < -kMaxDurationSeconds) {
    return absl::InvalidArgumentError(absl::StrCat("duration '", text, "' is out of range"));
  }
  const Descriptor* type = duration->GetDescriptor();
  const Reflection* reflection = duration->GetReflection();
  reflection->SetInt64(duration, type->FindFieldByName("seconds"), seconds);
  reflection->SetInt32(duration, type->FindFieldByName("nanos"),
                       static_cast<int32_t>(absl::ToInt64Nanoseconds(remainder)));
  return absl::OkStatus();
}

// The scalar rules of the header, for one non-message field: sets it, or
// appends to it when repeated. Errors carry no location; callers add it.
absl::Status SetScalar(absl::string_view text, const FieldDescriptor* field, Message* message) {
  const Reflection* reflection = message->GetReflection();
  const bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      // Any scalar is text: `fps: 30` in a map<string, string> means "30".
      repeated ? reflection->AddString(message, field, std::string(text))
               : reflection->SetString(message, field, std::string(text));
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool value;
      if (absl::EqualsIgnoreCase(text, "true")) {
        value = true;
      } else if (absl::EqualsIgnoreCase(text, "false")) {
        value = false;
      } else {
        return absl::InvalidArgumentError(absl::StrCat("expected true or false, got '", text, "'"));
      }
      repeated ? reflection->AddBool(message, field, value)
               : reflection->SetBool(message, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      auto value = ParseSigned(text, std::numeric_limits<int32_t>::min(),
                               std::numeric_limits<int32_t>::max(), "int32");
      if (!value.ok()) return value.status();
      repeated ? reflection->AddInt32(message, field, static_cast<int32_t>(*value))
               : reflection->SetInt32(message, field, static_cast<int32_t>(*value));
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      auto value = ParseSigned(text, std::numeric_limits<int64_t>::min(),
                               std::numeric_limits<int64_t>::max(), "int64");
      if (!value.ok()) return value.status();
      repeated ? reflection->AddInt64(message, field, *value)
               : reflection->SetInt64(message, field, *value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      auto value = ParseUnsigned(text, std::numeric_limits<uint32_t>::max(), "uint32");
      if (!value.ok()) return value.status();
      repeated ? reflection->AddUInt32(message, field, static_cast<uint32_t>(*value))
               : reflection->SetUInt32(message, field, static_cast<uint32_t>(*value));
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      auto value = ParseUnsigned(text, std::numeric_limits<uint64_t>::max(), "uint64");
      if (!value.ok()) return value.status();
      repeated ? reflection->AddUInt64(message, field, *value)
               : reflection->SetUInt64(message, field, *value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double value;
      if (!absl::SimpleAtod(text, &value)) {
        return absl::InvalidArgumentError(absl::StrCat("expected a number, got '", text, "'"));
      }
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
        repeated ? reflection->AddFloat(message, field, static_cast<float>(value))
                 : reflection->SetFloat(message, field, static_cast<float>(value));
      } else {
        repeated ? reflection->AddDouble(message, field, value)
                 : reflection->SetDouble(message, field, value);
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      auto value = ParseEnum(text, field->enum_type());
      if (!value.ok()) return value.status();
      repeated ? reflection->AddEnum(message, field, *value)
               : reflection->SetEnum(message, field, *value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return absl::InvalidArgumentError("unsupported field type");
}

}  // namespace

std::string EnumChoices(const EnumDescriptor* type) {
  std::vector<std::string> names;
  for (int i = 0; i < type->value_count(); ++i) {
    const EnumValueDescriptor* value = type->value(i);
    // *_UNSPECIFIED = 0 is "not set", not a choice anyone should write.
    if (value->number() == 0 && absl::EndsWith(value->name(), "_UNSPECIFIED")) continue;
    names.push_back(absl::AsciiStrToLower(value->name()));
  }
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<YAML::Node> ParseYaml(absl::string_view text, absl::string_view source_name) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    std::string location(source_name);
    if (e.mark.line >= 0) absl::StrAppend(&location, ":", e.mark.line + 1, ":", e.mark.column + 1);
    return absl::InvalidArgumentError(
        FormatFieldError(location, "", absl::StrCat("YAML syntax error: ", e.msg)));
  }
}

absl::StatusOr<absl::Duration> ParseConfigDuration(absl::string_view text) {
  absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  absl::Duration duration;
  double seconds;
  bool parsed = false;
  if (absl::SimpleAtod(trimmed, &seconds)) {
    // SimpleAtod also takes "inf" and "nan"; those fail the finite check.
    if (std::isfinite(seconds) && std::fabs(seconds) < 1e15) {
      duration = absl::Seconds(seconds);
      parsed = true;
    }
  } else if (absl::ParseDuration(trimmed, &duration)) {
    parsed = duration != absl::InfiniteDuration() && duration != -absl::InfiniteDuration();
  }
  if (!parsed) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid duration '", text,
        "' (expected e.g. \"2s\", \"500ms\", \"1.5s\", \"1m\" or a number of seconds)"));
  }
  return duration;
}

const FieldDescriptor* FindFieldPath(const Descriptor* type, absl::string_view path) {
  const FieldDescriptor* field = nullptr;
  for (absl::string_view name : absl::StrSplit(path, '.')) {
    if (field != nullptr) {
      if (field->is_repeated() || field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
        return nullptr;
      }
      type = field->message_type();
    }
    field = FindField(type, std::string(name));
    if (field == nullptr) return nullptr;
  }
  return field;
}

absl::Status SetFieldFromText(absl::string_view path, absl::string_view text, Message* message) {
  const FieldDescriptor* field = FindFieldPath(message->GetDescriptor(), path);
  if (field == nullptr || field->is_map()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a field of ", message->GetDescriptor()->full_name()));
  }
  // Walk down again, creating the intermediate messages.
  std::vector<absl::string_view> names = absl::StrSplit(path, '.');
  for (size_t i = 0; i + 1 < names.size(); ++i) {
    const FieldDescriptor* step = FindField(message->GetDescriptor(), std::string(names[i]));
    message = message->GetReflection()->MutableMessage(message, step);
  }
  if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
    return SetScalar(text, field, message);
  }
  if (field->is_repeated() || !IsDuration(field->message_type())) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": expected a scalar field"));
  }
  return SetDuration(text, message->GetReflection()->MutableMessage(message, field));
}

absl::Status ProtoYamlMapper::Map(const YAML::Node& node, Message* message) {
  // yaml-cpp throws only when asked about a node that does not exist, which
  // this code never does; the catch keeps a library bug from taking the
  // whole server down at start.
  try {
    return MapMessage(node, "", message);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        FormatFieldError(locations_->source_name(), "", absl::StrCat("YAML error: ", e.msg)));
  }
}

absl::Status ProtoYamlMapper::MapMessage(const YAML::Node& node, const std::string& path,
                                         Message* message) {
  const Descriptor* descriptor = message->GetDescriptor();
  if (node.IsNull()) return absl::OkStatus();
  if (IsDuration(descriptor) && node.IsScalar()) return MapDuration(node, path, message);
  if (!node.IsMap()) {
    return Error(node, path, absl::StrCat("expected a map, got ", Describe(node)));
  }
  absl::flat_hash_map<const FieldDescriptor*, YAML::Mark> seen;
  for (const auto& item : node) {
    const YAML::Node& key = item.first;
    const YAML::Node& value = item.second;
    if (!key.IsScalar()) {
      return Error(key, path, absl::StrCat("expected a field name, got ", Describe(key)));
    }
    const std::string& name = key.Scalar();
    const FieldDescriptor* field = FindField(descriptor, name);
    if (field == nullptr) {
      return Error(key, JoinPath(path, name),
                   absl::StrCat("unknown field", Suggestion(name, descriptor)));
    }
    std::string field_path = JoinPath(path, field->name());
    // YAML forbids duplicate keys but yaml-cpp keeps the last one silently;
    // "port" and "Port"-style aliases would slip through the same way.
    auto [it, inserted] = seen.emplace(field, key.Mark());
    if (!inserted) {
      return Error(key, field_path,
                   absl::StrCat("set twice (first at line ", it->second.line + 1, ")"));
    }
    if (const auto* oneof = field->containing_oneof()) {
      for (int i = 0; i < oneof->field_count(); ++i) {
        const FieldDescriptor* other = oneof->field(i);
        if (other != field && seen.contains(other)) {
          return Error(key, field_path,
                       absl::StrCat("cannot be set together with '", other->name(),
                                    "' (only one of ", oneof->name(), ")"));
        }
      }
    }
    Record(value.IsNull() ? key : value, field_path);
    absl::Status status = MapField(value, field_path, field, message);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ProtoYamlMapper::MapField(const YAML::Node& node, const std::string& path,
                                       const FieldDescriptor* field, Message* message) {
  if (node.IsNull()) return absl::OkStatus();
  if (field->is_map()) {
    if (!node.IsMap()) {
      return Error(node, path, absl::StrCat("expected a map, got ", Describe(node)));
    }
    absl::flat_hash_set<std::string> keys;
    for (const auto& item : node) {
      if (item.first.IsScalar() && !keys.insert(item.first.Scalar()).second) {
        return Error(item.first, JoinPath(path, item.first.Scalar()), "set twice");
      }
      absl::Status status = MapMapEntry(item.first, item.second, path, field, message);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }
  if (field->is_repeated()) {
    if (!node.IsSequence()) {
      return Error(node, path, absl::StrCat("expected a sequence, got ", Describe(node)));
    }
    for (size_t i = 0; i < node.size(); ++i) {
      const YAML::Node& element = node[i];
      std::string element_path = absl::StrCat(path, "[", i, "]");
      if (element.IsNull()) {
        return Error(element, element_path,
                     absl::StrCat("expected ", ExpectedScalar(field), ", got null"));
      }
      Record(element, element_path);
      absl::Status status = MapValue(element, element_path, field, message);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }
  return MapValue(node, path, field, message);
}

absl::Status ProtoYamlMapper::MapMapEntry(const YAML::Node& key, const YAML::Node& value,
                                          const std::string& path, const FieldDescriptor* field,
                                          Message* message) {
  if (!key.IsScalar()) {
    return Error(key, path, absl::StrCat("expected a key, got ", Describe(key)));
  }
  std::string entry_path = JoinPath(path, key.Scalar());
  Message* entry = message->GetReflection()->AddMessage(message, field);
  const Descriptor* entry_type = entry->GetDescriptor();
  absl::Status status = MapValue(key, entry_path, entry_type->map_key(), entry);
  if (!status.ok()) return status;
  const FieldDescriptor* value_field = entry_type->map_value();
  if (value.IsNull()) {
    return Error(key, entry_path,
                 absl::StrCat("expected ", ExpectedScalar(value_field), ", got null"));
  }
  Record(value, entry_path);
  return MapValue(value, entry_path, value_field, entry);
}

absl::Status ProtoYamlMapper::MapValue(const YAML::Node& node, const std::string& path,
                                       const FieldDescriptor* field, Message* message) {
  const Reflection* reflection = message->GetReflection();
  const bool repeated = field->is_repeated();
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    Message* child = repeated ? reflection->AddMessage(message, field)
                              : reflection->MutableMessage(message, field);
    return MapMessage(node, path, child);
  }
  if (!node.IsScalar()) {
    return Error(node, path,
                 absl::StrCat("expected ", ExpectedScalar(field), ", got ", Describe(node)));
  }
  absl::Status status = SetScalar(node.Scalar(), field, message);
  if (!status.ok()) return Error(node, path, status.message());
  return absl::OkStatus();
}

absl::Status ProtoYamlMapper::MapDuration(const YAML::Node& node, const std::string& path,
                                          Message* duration) {
  absl::Status status = SetDuration(node.Scalar(), duration);
  if (!status.ok()) return Error(node, path, status.message());
  return absl::OkStatus();
}

absl::Status ProtoYamlMapper::Error(const YAML::Node& node, const std::string& path,
                                    absl::string_view message) const {
  std::string location = locations_->source_name();
  const YAML::Mark mark = node.Mark();
  if (mark.line >= 0) absl::StrAppend(&location, ":", mark.line + 1, ":", mark.column + 1);
  return absl::InvalidArgumentError(FormatFieldError(location, path, message));
}

void ProtoYamlMapper::Record(const YAML::Node& node, const std::string& path) {
  const YAML::Mark mark = node.Mark();
  if (mark.line >= 0) locations_->Record(path, mark.line + 1, mark.column + 1);
}

}  // namespace rtsptest::common
