// GoFlags: a command-line parser with the syntax of Go's `flag` package, so
// that health_probe accepts grpc_health_probe's command lines unchanged.
//
// Accepted forms: -name, --name (bool: true), -name=value, --name=value,
// -name value (non-bool only). Parsing stops at "--"; any other positional
// argument is an error. Durations use Go's syntax ("1s", "500ms", "1m30s").
#ifndef RTSPTEST_COMMON_FLAGS_GO_FLAGS_H_
#define RTSPTEST_COMMON_FLAGS_GO_FLAGS_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rtsptest::common {

class GoFlags {
 public:
  // Each Add* binds a flag to a variable that already holds its default.
  void AddString(std::string name, std::string* value);
  void AddBool(std::string name, bool* value);
  void AddInt(std::string name, int* value);
  void AddDuration(std::string name, absl::Duration* value);
  // Repeatable: each occurrence appends.
  void AddStringList(std::string name, std::vector<std::string>* values);

  // Parses argv[1..]. InvalidArgument with Go's wording ("flag provided but
  // not defined: -foo", "flag needs an argument: -addr", "invalid value "x"
  // for flag -rpc-timeout: ..."). -h/-help/--help set help_requested().
  absl::Status Parse(int argc, const char* const* argv);

  bool help_requested() const { return help_requested_; }
  // Names (without dashes) that appeared on the command line.
  const std::set<std::string>& set_flags() const { return set_; }

 private:
  struct Flag {
    bool is_bool = false;
    std::function<absl::Status(absl::string_view)> set;
  };

  std::map<std::string, Flag> flags_;
  std::set<std::string> set_;
  bool help_requested_ = false;
};

// Go's time.ParseDuration syntax: a unit on every number except "0".
absl::Status ParseGoDuration(absl::string_view text, absl::Duration* out);
// Go's time.Duration.String()-like: "1s", "200ms", "1.5s", "1m0s".
std::string FormatGoDuration(absl::Duration d);

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_FLAGS_GO_FLAGS_H_
