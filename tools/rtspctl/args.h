// Args: rtspctl's command line, split into flags and positional words.
//
// Flags are "--name=value", "--name value" or, for the bool flags and
// "-h"/"--help", just "--name"; "-o" and "-f" are short for "--output" and
// "--file". Flags may stand anywhere, before or after the command words.
#ifndef RTSPTEST_TOOLS_RTSPCTL_ARGS_H_
#define RTSPTEST_TOOLS_RTSPCTL_ARGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rtsptest::tools {

class Args {
 public:
  // InvalidArgument for a value-taking flag with no value.
  absl::Status Parse(int argc, const char* const* argv);

  const std::vector<std::string>& positional() const { return positional_; }
  bool Has(absl::string_view name) const { return flags_.count(std::string(name)) > 0; }
  // The last value of `name`, or `fallback`.
  std::string Get(absl::string_view name, absl::string_view fallback = "") const;
  // Every value of a repeatable flag, in order.
  std::vector<std::string> GetAll(absl::string_view name) const;
  bool help() const { return Has("help"); }

  // InvalidArgument naming the first flag that is not in `allowed` (nor a
  // global flag).
  absl::Status CheckAllowed(const std::vector<std::string>& allowed) const;

 private:
  std::map<std::string, std::vector<std::string>> flags_;
  std::vector<std::string> positional_;
};

}  // namespace rtsptest::tools

#endif  // RTSPTEST_TOOLS_RTSPCTL_ARGS_H_
