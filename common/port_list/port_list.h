// Comma-separated port lists, e.g. "8554,8555,8556,8557", as flags and
// environment variables give them.
#ifndef RTSPTEST_COMMON_PORT_LIST_PORT_LIST_H_
#define RTSPTEST_COMMON_PORT_LIST_PORT_LIST_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rtsptest::common {

// The largest TCP/UDP port number.
inline constexpr uint32_t kMaxPortNumber = 65535;

// Parses a comma-separated port list (spaces around items are allowed).
// Each port is 0..65535; 0 (an ephemeral port) may repeat, other ports may
// not. Errors are InvalidArgument and describe the item ("item 2 is empty",
// "item 3: 'x' is not a port number"); the caller prefixes where the list
// came from (a flag, a variable).
absl::StatusOr<std::vector<uint32_t>> ParsePortList(absl::string_view text);

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_PORT_LIST_PORT_LIST_H_
