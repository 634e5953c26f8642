// ListPlugins' answer: every lib<name>.so in the plugin directories, loaded
// and described with its parameter schema, or listed with why it failed.
#ifndef RTSPTEST_CONTROL_SERVICES_PLUGIN_LIST_H_
#define RTSPTEST_CONTROL_SERVICES_PLUGIN_LIST_H_

#include "core/plugin_host/plugin_loader.h"
#include "rtsptest/control/v1/control.pb.h"

namespace rtsptest::control {

// Loads (through the loader's cache) every plugin the loader finds. A plugin
// that fails goes into `failed` with the loader's message; nothing else is
// affected.
v1::ListPluginsResponse ListPlugins(core::PluginLoader& loader);

// One plugin's schema entry as the API describes it.
v1::ParameterSpec ToParameterSpec(const rts_param_spec& spec);

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_SERVICES_PLUGIN_LIST_H_
