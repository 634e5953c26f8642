// GoFlags: see go_flags.h.
#include "common/flags/go_flags.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace rtsptest::common {
namespace {

// strconv.ParseBool's accepted spellings.
bool ParseGoBool(absl::string_view text, bool* out) {
  static const char* const kTrue[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char* const kFalse[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (const char* t : kTrue) {
    if (text == t) return (*out = true), true;
  }
  for (const char* f : kFalse) {
    if (text == f) return (*out = false), true;
  }
  return false;
}

}  // namespace

absl::Status ParseGoDuration(absl::string_view text, absl::Duration* out) {
  // absl::ParseDuration reads Go's grammar, plus "inf" which Go rejects; Go
  // also requires a unit on any number but 0.
  if (text.empty() || absl::StrContains(text, "inf")) {
    return absl::InvalidArgumentError(absl::StrCat("time: invalid duration \"", text, "\""));
  }
  if (text != "0" && text != "+0" && text != "-0" && !text.empty() &&
      absl::ascii_isdigit(static_cast<unsigned char>(text.back()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("time: missing unit in duration \"", text, "\""));
  }
  if (!absl::ParseDuration(std::string(text), out)) {
    return absl::InvalidArgumentError(absl::StrCat("time: invalid duration \"", text, "\""));
  }
  return absl::OkStatus();
}

std::string FormatGoDuration(absl::Duration d) {
  std::string s = absl::FormatDuration(d);
  // Go writes whole minutes and hours with their smaller units: "1m0s".
  if (absl::EndsWith(s, "m") || absl::EndsWith(s, "h")) {
    if (absl::EndsWith(s, "h")) s += "0m";
    s += "0s";
  }
  return s;
}

void GoFlags::AddString(std::string name, std::string* value) {
  flags_[std::move(name)] = Flag{false, [value](absl::string_view v) {
                                   *value = std::string(v);
                                   return absl::OkStatus();
                                 }};
}

void GoFlags::AddBool(std::string name, bool* value) {
  flags_[std::move(name)] = Flag{true, [value](absl::string_view v) {
                                   if (!ParseGoBool(v, value)) {
                                     return absl::InvalidArgumentError("parse error");
                                   }
                                   return absl::OkStatus();
                                 }};
}

void GoFlags::AddInt(std::string name, int* value) {
  flags_[std::move(name)] = Flag{false, [value](absl::string_view v) {
                                   if (!absl::SimpleAtoi(v, value)) {
                                     return absl::InvalidArgumentError("parse error");
                                   }
                                   return absl::OkStatus();
                                 }};
}

void GoFlags::AddDuration(std::string name, absl::Duration* value) {
  flags_[std::move(name)] =
      Flag{false, [value](absl::string_view v) { return ParseGoDuration(v, value); }};
}

void GoFlags::AddStringList(std::string name, std::vector<std::string>* values) {
  flags_[std::move(name)] = Flag{false, [values](absl::string_view v) {
                                   values->emplace_back(v);
                                   return absl::OkStatus();
                                 }};
}

absl::Status GoFlags::Parse(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") {
      if (i + 1 < argc) {
        return absl::InvalidArgumentError(absl::StrCat("unexpected argument: ", argv[i + 1]));
      }
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument: ", arg));
    }
    absl::string_view body = arg.substr(arg[1] == '-' ? 2 : 1);
    if (body.empty() || body[0] == '-' || body[0] == '=') {
      return absl::InvalidArgumentError(absl::StrCat("bad flag syntax: ", arg));
    }
    absl::string_view name = body;
    absl::string_view value;
    bool has_value = false;
    if (const size_t eq = body.find('='); eq != absl::string_view::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    if (name == "h" || name == "help") {
      help_requested_ = true;
      continue;
    }
    auto it = flags_.find(std::string(name));
    if (it == flags_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("flag provided but not defined: -", name));
    }
    const Flag& flag = it->second;
    if (!has_value) {
      if (flag.is_bool) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("flag needs an argument: -", name));
      }
    }
    absl::Status status = flag.set(value);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("invalid ", flag.is_bool ? "boolean " : "",
                                                     "value \"", value, "\" for flag -", name, ": ",
                                                     status.message()));
    }
    set_.insert(std::string(name));
  }
  return absl::OkStatus();
}

}  // namespace rtsptest::common
