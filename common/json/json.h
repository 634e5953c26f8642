// JSON values and their text, through nlohmann::json (Debian's
// nlohmann-json3-dev, header-only).
//
// Bodies and log lines are built as `Json` values and written by DumpJson,
// which leaves strings, escaping and structure to the library and only
// chooses how floating-point numbers read: the documented bodies write
// seconds and milliseconds with fixed decimals ("5.000"), where the library
// would write the shortest exact form ("5.0").
#ifndef RTSPTEST_COMMON_JSON_JSON_H_
#define RTSPTEST_COMMON_JSON_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace rtsptest::common {

// Objects keep their fields in insertion order, the order the docs show.
using Json = nlohmann::ordered_json;

// How DumpJson writes floating-point numbers. Integers, strings, booleans
// and null are written as the library writes them.
struct JsonFloatStyle {
  // printf "%.<digits>f" ("0.410") ...
  static constexpr JsonFloatStyle Fixed(int decimals) { return {false, decimals}; }
  // ... or "%.<digits>g" ("0.41", "1.23457e+06").
  static constexpr JsonFloatStyle Significant(int digits) { return {true, digits}; }

  bool significant;
  int digits;
};

// Compact JSON text of `value` (no spaces, no trailing newline). Non-finite
// numbers are written as null; invalid UTF-8 in strings becomes U+FFFD.
std::string DumpJson(const Json& value, JsonFloatStyle floats);

// Parses one JSON text. InvalidArgument, with the library's message, when
// `text` is not JSON.
absl::StatusOr<Json> ParseJson(absl::string_view text);

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_JSON_JSON_H_
