// Percent-decoding of URL parts (RFC 3986 2.1), for the RTSP URLs rtsp_bench
// is given and the HTTP request targets the gateway reads.
#ifndef RTSPTEST_COMMON_NET_PERCENT_DECODE_H_
#define RTSPTEST_COMMON_NET_PERCENT_DECODE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace rtsptest::common {

// "%40" -> "@"; an escape that is not '%' and two hex digits stays as it is.
// `plus_is_space`: '+' -> ' ' too, as in a query string's names and values.
std::string PercentDecode(absl::string_view text, bool plus_is_space = false);

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_NET_PERCENT_DECODE_H_
