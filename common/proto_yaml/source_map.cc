// SourceMap: field path -> position in the config file (see source_map.h).
#include "common/proto_yaml/source_map.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rtsptest::common {
namespace {

// The path one level up: "a.b[2]" -> "a.b", "a.b" -> "a", "a" -> "".
absl::string_view Parent(absl::string_view path) {
  size_t cut = path.find_last_of(".[");
  return cut == absl::string_view::npos ? absl::string_view() : path.substr(0, cut);
}

bool IsUnder(absl::string_view path, absl::string_view prefix) {
  if (!absl::StartsWith(path, prefix)) return false;
  if (path.size() == prefix.size()) return true;
  char next = path[prefix.size()];
  return next == '.' || next == '[';
}

}  // namespace

void SourceMap::Record(absl::string_view path, int line, int column) {
  positions_[std::string(path)] = Position{line, column, ""};
}

std::string SourceMap::Locate(absl::string_view path) const {
  for (absl::string_view p = path; !p.empty(); p = Parent(p)) {
    auto it = positions_.find(p);
    if (it != positions_.end()) {
      if (it->second.line == 0) return it->second.origin;
      return absl::StrCat(source_name_, ":", it->second.line, ":", it->second.column);
    }
  }
  return "";
}

void SourceMap::Forget(absl::string_view path) { Attribute(path, ""); }

void SourceMap::Attribute(absl::string_view path, absl::string_view origin) {
  std::vector<std::string> doomed;
  for (const auto& [p, unused] : positions_) {
    if (IsUnder(p, path)) doomed.push_back(p);
  }
  for (const std::string& p : doomed) positions_.erase(p);
  positions_[std::string(path)] = Position{0, 0, std::string(origin)};
}

std::string FormatFieldError(absl::string_view location, absl::string_view path,
                             absl::string_view message) {
  std::vector<absl::string_view> parts;
  if (!location.empty()) parts.push_back(location);
  if (!path.empty()) parts.push_back(path);
  parts.push_back(message);
  return absl::StrJoin(parts, ": ");
}

}  // namespace rtsptest::common
