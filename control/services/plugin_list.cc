// ListPlugins (see header).
#include "control/services/plugin_list.h"

#include <unistd.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace rtsptest::control {
namespace {

// Where lib<name>.so would be found, for a plugin that failed before the
// loader could say (its message names the file in most cases anyway).
std::string FirstPathOf(const core::PluginLoader& loader, const std::string& name) {
  for (const std::string& dir : loader.plugin_dirs()) {
    std::string path = absl::StrCat(dir, "/lib", name, ".so");
    if (access(path.c_str(), F_OK) == 0) return path;
  }
  return "";
}

}  // namespace

v1::ParameterSpec ToParameterSpec(const rts_param_spec& spec) {
  v1::ParameterSpec out;
  out.set_name(spec.name);
  out.set_type(core::ParamTypeName(spec.type));
  out.set_required(spec.default_value == nullptr);
  if (spec.default_value != nullptr) out.set_default_value(spec.default_value);
  if ((spec.type == RTS_PARAM_TYPE_INT || spec.type == RTS_PARAM_TYPE_DOUBLE) &&
      spec.min < spec.max) {
    out.set_min(spec.min);
    out.set_max(spec.max);
  }
  if (spec.type == RTS_PARAM_TYPE_ENUM && spec.allowed_values != nullptr) {
    for (const char* const* v = spec.allowed_values; *v != nullptr; ++v) out.add_allowed_values(*v);
  }
  if (spec.help != nullptr) out.set_help(spec.help);
  return out;
}

v1::ListPluginsResponse ListPlugins(core::PluginLoader& loader) {
  v1::ListPluginsResponse response;
  for (const std::string& name : loader.ListAvailable()) {
    absl::StatusOr<std::shared_ptr<const core::Plugin>> plugin = loader.Load(name);
    if (!plugin.ok()) {
      v1::PluginLoadError* failed = response.add_failed();
      failed->set_name(name);
      failed->set_path(FirstPathOf(loader, name));
      failed->set_error(std::string(plugin.status().message()));
      continue;
    }
    const rts_plugin_descriptor& d = (*plugin)->descriptor();
    v1::PluginInfo* info = response.add_plugins();
    info->set_name(d.name);
    info->set_version(d.version);
    info->set_description(d.description);
    info->set_path((*plugin)->path());
    for (size_t i = 0; i < d.param_count; ++i)
      *info->add_parameters() = ToParameterSpec(d.params[i]);
  }
  return response;
}

}  // namespace rtsptest::control
