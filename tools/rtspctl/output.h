// What rtspctl prints: aligned tables for people, and one JSON (protobuf's
// JSON mapping) or YAML document for scripts (-o json, -o yaml).
#ifndef RTSPTEST_TOOLS_RTSPCTL_OUTPUT_H_
#define RTSPTEST_TOOLS_RTSPCTL_OUTPUT_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "tools/rtspctl/args.h"

namespace rtsptest::tools {

enum class OutputFormat { kTable, kJson, kYaml };

// From -o / --output: "table" (default), "json" or "yaml".
absl::StatusOr<OutputFormat> OutputFormatFromArgs(const Args& args);

// Columns padded to their widest cell, two spaces apart.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Prints `message` as one JSON or YAML document (kTable is not accepted).
void PrintMessage(OutputFormat format, const google::protobuf::Message& message, std::ostream& out);

// "12.5" style numbers for tables.
std::string FormatNumber(double value, int decimals);

}  // namespace rtsptest::tools

#endif  // RTSPTEST_TOOLS_RTSPCTL_OUTPUT_H_
