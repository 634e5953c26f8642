// Tables, JSON and YAML output: see output.h.
#include "tools/rtspctl/output.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/proto_yaml/proto_yaml_mapper.h"
#include "google/protobuf/util/json_util.h"
#include "yaml-cpp/yaml.h"

namespace rtsptest::tools {
namespace {

// Whether a plain YAML scalar `text` would be read back as something other
// than a string (a number, a bool, null), so that it needs quotes.
bool ReadsAsNonString(const std::string& text) {
  static const auto* words = new std::set<std::string>{"",   "~",  "null", "true", "false", "yes",
                                                       "no", "on", "off",  "y",    "n"};
  double number;
  return words->count(absl::AsciiStrToLower(text)) > 0 || absl::SimpleAtod(text, &number);
}

// Emits a node parsed from JSON in YAML's block style (yaml-cpp keeps the
// flow style of JSON input, so the node is rebuilt through the emitter).
void EmitBlock(const YAML::Node& node, YAML::Emitter& out) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      out << YAML::BeginMap;
      for (const auto& entry : node) {
        out << YAML::Key << entry.first.as<std::string>() << YAML::Value;
        EmitBlock(entry.second, out);
      }
      out << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      out << YAML::BeginSeq;
      for (const auto& item : node) EmitBlock(item, out);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      // JSON strings come back tagged "!"; they keep quotes only where YAML
      // would read them as something else ("true", "10", 64-bit integers).
      if (node.Tag() == "!" && ReadsAsNonString(node.Scalar())) {
        out << YAML::DoubleQuoted << node.Scalar();
      } else {
        out << node.Scalar();
      }
      break;
    default:
      out << YAML::Null;
  }
}

}  // namespace

absl::StatusOr<OutputFormat> OutputFormatFromArgs(const Args& args) {
  std::string name = args.Get("output", "table");
  if (name == "table") return OutputFormat::kTable;
  if (name == "json") return OutputFormat::kJson;
  if (name == "yaml") return OutputFormat::kYaml;
  return absl::InvalidArgumentError(absl::StrCat("-o ", name, ": expected table, json or yaml"));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i]);
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

void PrintMessage(OutputFormat format, const google::protobuf::Message& message,
                  std::ostream& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = format == OutputFormat::kJson;
  options.always_print_primitive_fields = true;
  std::string json;
  // Cannot fail for a message the stub parsed.
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  if (format == OutputFormat::kJson) {
    out << json;
    if (json.empty() || json.back() != '\n') out << "\n";
    return;
  }
  absl::StatusOr<YAML::Node> node = common::ParseYaml(json, "response");
  if (!node.ok()) {
    out << json << "\n";  // Not reached: JSON is YAML.
    return;
  }
  YAML::Emitter emitter;
  EmitBlock(*node, emitter);
  out << emitter.c_str() << "\n";
}

std::string FormatNumber(double value, int decimals) {
  return absl::StrFormat("%.*f", decimals, value);
}

}  // namespace rtsptest::tools
