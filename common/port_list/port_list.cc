// Comma-separated port lists (see port_list.h).
#include "common/port_list/port_list.h"

#include <cstdint>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace rtsptest::common {

absl::StatusOr<std::vector<uint32_t>> ParsePortList(absl::string_view text) {
  if (absl::StripAsciiWhitespace(text).empty()) {
    return absl::InvalidArgumentError("the port list is empty");
  }
  std::vector<uint32_t> ports;
  absl::flat_hash_set<uint32_t> seen;
  int position = 0;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    ++position;
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("item ", position, " is empty"));
    }
    if (!absl::c_all_of(
            item, [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); })) {
      return absl::InvalidArgumentError(
          absl::StrCat("item ", position, ": '", item, "' is not a port number"));
    }
    uint64_t port;
    // SimpleAtoi fails only on overflow here: the item is all digits.
    if (!absl::SimpleAtoi(item, &port) || port > kMaxPortNumber) {
      return absl::InvalidArgumentError(absl::StrCat("item ", position, ": ", item,
                                                     " is out of range (0..", kMaxPortNumber, ")"));
    }
    if (port != 0 && !seen.insert(static_cast<uint32_t>(port)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("item ", position, ": port ", port, " is listed twice"));
    }
    ports.push_back(static_cast<uint32_t>(port));
  }
  return ports;
}

}  // namespace rtsptest::common
