// Checks stream parameters (strings from config or the control API) against a
// plugin's parameter schema, so that a plugin's create function only ever
// sees values it declared valid.
//
// Messages here carry no "stream ...: plugin ...:" prefix; Plugin adds it,
// because only Plugin knows both the stream and the plugin name.
#ifndef RTSPTEST_CORE_PLUGIN_HOST_PARAMETER_VALIDATOR_H_
#define RTSPTEST_CORE_PLUGIN_HOST_PARAMETER_VALIDATOR_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "plugins/sdk/rts_plugin.h"

namespace rtsptest::core {

// Validated parameters: (name, value) for every schema entry, in schema order.
using ParameterList = std::vector<std::pair<std::string, std::string>>;

// Checks one value against one schema entry and returns it in the canonical
// form that the rts_param_* helpers expect: integers in plain decimal, bools
// as "true"/"false", enums in the schema's spelling. On failure returns
// InvalidArgument whose message is only the reason, e.g. "must be in 1..120",
// so that callers can say which parameter and value it was.
absl::StatusOr<std::string> ValidateParameterValue(const rts_param_spec& spec,
                                                   absl::string_view value);

// Checks raw parameters against a whole schema (`specs`, `count` entries,
// already checked by CheckParameterSchema). Returns every schema entry in
// schema order with defaults filled in. Errors are InvalidArgument:
//   "unknown parameter 'fsp' (known: width, height, fps)"
//   "parameter fps=0: must be in 1..120"
//   "missing required parameter 'uri'"
// Unknown names are reported before anything else: a misspelt required
// parameter is better explained by "unknown 'fsp'" than by "missing 'fps'".
absl::StatusOr<ParameterList> ValidateParameters(const rts_param_spec* specs, size_t count,
                                                 const std::map<std::string, std::string>& raw);

// Returns the schema's parameter names joined with ", " (for messages and
// --list_plugins).
std::string JoinParameterNames(const rts_param_spec* specs, size_t count);

// Returns `value` ready to quote in a message: control characters escaped so
// that a hostile value cannot forge log lines.
std::string PrintableValue(absl::string_view value);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_PLUGIN_HOST_PARAMETER_VALIDATOR_H_
