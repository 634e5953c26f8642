// Args: see args.h.
#include "tools/rtspctl/args.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace rtsptest::tools {
namespace {

// Flags that take no value.
const std::set<std::string>& BoolFlags() {
  static const auto* flags = new std::set<std::string>{"help", "tls", "all"};
  return *flags;
}

// Flags every command accepts (client.h, output.h).
const std::set<std::string>& GlobalFlags() {
  static const auto* flags =
      new std::set<std::string>{"help",     "addr",    "token",           "tls",     "tls_ca",
                                "tls_cert", "tls_key", "tls_server_name", "timeout", "output"};
  return *flags;
}

std::string LongName(absl::string_view name) {
  if (name == "o") return "output";
  if (name == "f") return "file";
  if (name == "h") return "help";
  return std::string(name);
}

}  // namespace

absl::Status Args::Parse(int argc, const char* const* argv) {
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-') {
      positional_.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    absl::string_view body = absl::StartsWith(arg, "--") ? arg.substr(2) : arg.substr(1);
    size_t eq = body.find('=');
    std::string name = LongName(body.substr(0, eq));
    if (eq != absl::string_view::npos) {
      flags_[name].emplace_back(body.substr(eq + 1));
    } else if (BoolFlags().count(name) > 0) {
      flags_[name].emplace_back("true");
    } else if (i + 1 < argc) {
      flags_[name].emplace_back(argv[++i]);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("flag needs a value: --", name));
    }
  }
  return absl::OkStatus();
}

std::string Args::Get(absl::string_view name, absl::string_view fallback) const {
  auto it = flags_.find(std::string(name));
  if (it == flags_.end() || it->second.empty()) return std::string(fallback);
  return it->second.back();
}

std::vector<std::string> Args::GetAll(absl::string_view name) const {
  auto it = flags_.find(std::string(name));
  return it == flags_.end() ? std::vector<std::string>{} : it->second;
}

absl::Status Args::CheckAllowed(const std::vector<std::string>& allowed) const {
  std::set<std::string> ok(allowed.begin(), allowed.end());
  for (const auto& [name, values] : flags_) {
    if (GlobalFlags().count(name) == 0 && ok.count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag: --", name));
    }
  }
  return absl::OkStatus();
}

}  // namespace rtsptest::tools
