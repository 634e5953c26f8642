// The one rule for source-plugin names, checked where a config names a
// plugin and where the loader turns a name into a file name.
#ifndef RTSPTEST_COMMON_PLUGIN_NAME_PLUGIN_NAME_H_
#define RTSPTEST_COMMON_PLUGIN_NAME_PLUGIN_NAME_H_

#include "absl/strings/string_view.h"

namespace rtsptest::common {

// True when `name` matches [a-z0-9_-]+. Names become file names
// (lib<name>.so): the rule keeps them from reaching outside the plugin
// directories ("../x"), avoids case games on case-insensitive file systems
// and keeps them usable in config keys.
bool IsValidPluginName(absl::string_view name);

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_PLUGIN_NAME_PLUGIN_NAME_H_
