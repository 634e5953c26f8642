// Load-time checks of a plugin descriptor: ABI version, identity and the
// parameter schema. They run once per plugin, so that nothing later (stream
// set-up, --list_plugins, the control API) has to distrust the descriptor.
//
// Messages carry no "plugin <name>:" prefix; Plugin::FromDescriptor adds it.
#ifndef RTSPTEST_CORE_PLUGIN_HOST_DESCRIPTOR_CHECKS_H_
#define RTSPTEST_CORE_PLUGIN_HOST_DESCRIPTOR_CHECKS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "plugins/sdk/rts_plugin.h"

namespace rtsptest::core {

// A bound on param_count: a garbage count would make us read far past the
// plugin's array; no honest plugin needs more.
inline constexpr size_t kMaxPluginParameters = 256;

// FailedPrecondition unless abi_major == host major and abi_minor <= host
// minor. Reads only abi_major/abi_minor, the two fields every ABI version
// keeps in place, so it is safe on a descriptor of any version.
absl::Status CheckAbiVersion(const rts_plugin_descriptor& descriptor);

// InvalidArgument naming the parameter when the schema is unusable: NULL or
// malformed or duplicate name, unspecified or unknown type, ENUM without
// allowed values, NaN bounds or min > max, or a default that fails its own
// validation. A NULL help string is allowed (it is documentation only).
absl::Status CheckParameterSchema(const rts_param_spec* specs, size_t count);

// All checks, in an order that is safe on a hostile descriptor: the ABI
// version first (another major may lay the struct out differently), then
// identity (name must equal `expected_name`, the <name> of lib<name>.so;
// version and description must be set), create, and the schema.
absl::Status CheckDescriptor(const rts_plugin_descriptor& descriptor,
                             absl::string_view expected_name);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_PLUGIN_HOST_DESCRIPTOR_CHECKS_H_
