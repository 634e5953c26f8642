// The rule for source-plugin names (see plugin_name.h).
#include "common/plugin_name/plugin_name.h"

#include "absl/strings/ascii.h"

namespace rtsptest::common {

bool IsValidPluginName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_islower(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace rtsptest::common
