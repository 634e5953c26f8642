// The text of --list_plugins (see plugin_catalog.h).
#include "core/plugin_host/plugin_catalog.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_join.h"
#include "plugins/sdk/rts_plugin.h"

namespace rtsptest::core {
namespace {

void WriteParameter(const rts_param_spec& p, std::ostream& out) {
  out << "  " << p.name << " (" << ParamTypeName(p.type);
  if (p.type == RTS_PARAM_TYPE_ENUM && p.allowed_values != nullptr) {
    std::vector<std::string> values;
    for (const char* const* v = p.allowed_values; *v != nullptr; ++v) values.push_back(*v);
    out << ": " << absl::StrJoin(values, "|");
  } else if ((p.type == RTS_PARAM_TYPE_INT || p.type == RTS_PARAM_TYPE_DOUBLE) && p.min != p.max) {
    out << ": " << p.min << ".." << p.max;
  }
  out << ", default " << (p.default_value != nullptr ? p.default_value : "<required>") << ")";
  if (p.help != nullptr) out << "  " << p.help;
  out << "\n";
}

}  // namespace

bool WritePluginCatalog(PluginLoader& loader, std::ostream& out) {
  std::vector<std::string> names = loader.ListAvailable();
  if (names.empty()) {
    out << "no plugins found in: " << absl::StrJoin(loader.plugin_dirs(), ", ") << "\n";
    return false;
  }
  for (const std::string& name : names) {
    absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader.Load(name);
    if (!plugin.ok()) {
      out << name << ": NOT LOADABLE: " << plugin.status().message() << "\n\n";
      continue;
    }
    const rts_plugin_descriptor& d = (*plugin)->descriptor();
    out << d.name << " " << d.version << " (" << (*plugin)->path() << ")\n  " << d.description
        << "\n";
    for (size_t i = 0; i < d.param_count; ++i) WriteParameter(d.params[i], out);
    out << "\n";
  }
  return true;
}

}  // namespace rtsptest::core
