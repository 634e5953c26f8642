// CheckCommandLineFlags implementation: mirrors the steps of absl's
// ParseCommandLineImpl (absl/flags/parse.cc, LTS 2022-06-23).
#include "app/flag_check.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/marshalling.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace rtsptest::app {
namespace {

// absl's usage flags are not CommandLineFlags (flags_internal::
// DeduceUsageFlags); any value is accepted.
bool IsUsageFlag(absl::string_view name) {
  return name == "help" || name == "helpfull" || name == "helpshort" || name == "helppackage" ||
         name == "helpon" || name == "helpmatch" || name == "version" || name == "only_check_args";
}

// Flags whose values are lists of names or paths; ParseCommandLine acts on
// them (reads files and variables), so they are never set here.
bool IsGeneratorFlag(absl::string_view name) {
  return name == "flagfile" || name == "fromenv" || name == "tryfromenv" || name == "undefok";
}

// Checks `value` for `flag` without setting it, when its type is known.
// `where` (e.g. " (in --flagfile f)") follows the value in messages.
absl::Status CheckValue(const absl::CommandLineFlag& flag, absl::string_view value,
                        absl::string_view where) {
  const std::string shown = absl::StrCat("--", flag.Name(), "='", value, "'", where);
  std::string error;
  if (flag.IsOfType<bool>()) {
    bool parsed = false;
    if (absl::ParseFlag(value, &parsed, &error)) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(shown, ": not a boolean (true/false, yes/no, 1/0, t/f, y/n)"));
  }
  if (flag.IsOfType<std::string>() || IsGeneratorFlag(flag.Name())) return absl::OkStatus();
  if (flag.IsOfType<int>() || flag.IsOfType<int64_t>() || flag.IsOfType<uint32_t>() ||
      flag.IsOfType<uint64_t>() || flag.IsOfType<double>()) {
    bool ok = false;
    if (flag.IsOfType<int>()) {
      int parsed;
      ok = absl::ParseFlag(value, &parsed, &error);
    } else if (flag.IsOfType<int64_t>()) {
      int64_t parsed;
      ok = absl::ParseFlag(value, &parsed, &error);
    } else if (flag.IsOfType<uint32_t>()) {
      uint32_t parsed;
      ok = absl::ParseFlag(value, &parsed, &error);
    } else if (flag.IsOfType<uint64_t>()) {
      uint64_t parsed;
      ok = absl::ParseFlag(value, &parsed, &error);
    } else {
      double parsed;
      ok = absl::ParseFlag(value, &parsed, &error);
    }
    if (ok) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(shown, ": not a number"));
  }
  // Other types are not defined by this binary; absl checks them itself.
  return absl::OkStatus();
}

class Checker {
 public:
  // Collects --undefok first: absl applies it to the whole command line.
  explicit Checker(const std::vector<std::string>& args) {
    for (const std::string& arg : args) {
      absl::string_view view = arg;
      if (view == "--") break;
      if (absl::ConsumePrefix(&view, "--undefok=") || absl::ConsumePrefix(&view, "-undefok=")) {
        for (absl::string_view name : absl::StrSplit(view, ',', absl::SkipWhitespace())) {
          undefok_.insert(std::string(name));
        }
      }
    }
  }

  // `args` without the program name; `where` (" (in --flagfile f)")
  // follows the argument in messages.
  absl::Status Check(const std::vector<std::string>& args, absl::string_view where) {
    for (size_t i = 0; i < args.size(); ++i) {
      absl::string_view arg = args[i];
      if (arg == "--") return absl::OkStatus();  // the rest is positional
      // "-" and anything not starting with '-' are positional; main()
      // rejects them after parsing.
      if (!absl::ConsumePrefix(&arg, "-") || arg.empty()) continue;
      absl::ConsumePrefix(&arg, "-");
      const size_t equals = arg.find('=');
      const absl::string_view name = arg.substr(0, equals);
      const bool has_value = equals != absl::string_view::npos;
      absl::string_view value = has_value ? arg.substr(equals + 1) : absl::string_view();
      if (name.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", args[i], "'", where, ": no flag name before '='"));
      }
      absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
      bool negative = false;
      if (flag == nullptr && absl::StartsWith(name, "no")) {
        flag = absl::FindCommandLineFlag(name.substr(2));
        negative = flag != nullptr;
      }
      if (flag == nullptr) {
        if (IsUsageFlag(name)) continue;
        if (undefok_.count(std::string(name)) > 0 ||
            (absl::StartsWith(name, "no") && undefok_.count(std::string(name.substr(2))) > 0)) {
          continue;
        }
        return absl::InvalidArgumentError(
            absl::StrCat("unknown flag '", args[i], "'", where, " (see --help)"));
      }
      if (flag->IsOfType<bool>()) {
        if (negative && has_value) {
          return absl::InvalidArgumentError(absl::StrCat("'", args[i], "'", where,
                                                         ": the --no form of a boolean flag "
                                                         "takes no value"));
        }
        if (has_value && value.empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat("--", name, "=", where, ": missing value (true or false)"));
        }
        if (!has_value) continue;
      } else {
        if (negative) {
          return absl::InvalidArgumentError(absl::StrCat("'", args[i], "'", where, ": --",
                                                         flag->Name(),
                                                         " is not a boolean flag; there is no "
                                                         "--no form"));
        }
        if (!has_value) {
          // absl takes the next argument as the value: --drain_timeout 5s.
          if (i + 1 >= args.size()) {
            return absl::InvalidArgumentError(
                absl::StrCat("--", name, where, ": missing value (--", name, "=<value>)"));
          }
          value = args[++i];
        }
      }
      if (absl::Status status = CheckValue(*flag, value, where); !status.ok()) return status;
      if (flag->Name() == "flagfile") {
        for (absl::string_view file : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
          if (absl::Status status = CheckFlagfile(std::string(file)); !status.ok()) return status;
        }
      }
      if (flag->Name() == "fromenv" || flag->Name() == "tryfromenv") {
        for (absl::string_view env : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
          if (absl::Status status = CheckFromEnv(env, flag->Name() == "fromenv"); !status.ok()) {
            return status;
          }
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  // A flagfile: one flag per line, '#' starts a comment line (absl's
  // format). A file that cannot be read is left to absl, which names it.
  absl::Status CheckFlagfile(const std::string& path) {
    if (++flagfile_depth_ > 8) return absl::OkStatus();  // absl catches the loop
    std::ifstream file(path);
    if (!file) return absl::OkStatus();
    std::vector<std::string> lines;
    for (std::string line; std::getline(file, line);) {
      absl::string_view stripped = absl::StripAsciiWhitespace(line);
      if (stripped.empty() || stripped[0] == '#') continue;
      lines.emplace_back(stripped);
    }
    absl::Status status = Check(lines, absl::StrCat(" (in --flagfile ", path, ")"));
    --flagfile_depth_;
    return status;
  }

  // --fromenv=name reads $FLAGS_name (must be set); --tryfromenv skips it
  // when unset.
  absl::Status CheckFromEnv(absl::string_view name, bool required) {
    const std::string variable = absl::StrCat("FLAGS_", name);
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr) {
      if (!required) return absl::OkStatus();
      return absl::InvalidArgumentError(
          absl::StrCat("--fromenv=", name, ": $", variable, " is not set"));
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--fromenv/--tryfromenv names unknown flag '", name, "'"));
    }
    return CheckValue(*flag, value, absl::StrCat(" (from $", variable, ")"));
  }

  std::set<std::string> undefok_;
  int flagfile_depth_ = 0;
};

}  // namespace

absl::Status CheckCommandLineFlags(int argc, char* argv[]) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return Checker(args).Check(args, "");
}

}  // namespace rtsptest::app
