// Plugin discovery, dlopen and caching; see plugin_loader.h.
#include "core/plugin_host/plugin_loader.h"

#include <dlfcn.h>

#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "core/plugin_host/elf_check.h"
#include "core/plugin_host/parameter_validator.h"

namespace rtsptest::core {
namespace {

constexpr absl::string_view kLibPrefix = "lib";
constexpr absl::string_view kLibSuffix = ".so";

// rts_plugin_get_descriptor as g++/clang++ mangle it when the definition
// lacks C linkage (RTS_PLUGIN_DEFINE outside extern "C" in a .cc file).
constexpr char kMangledEntrySymbol[] = "_Z25rts_plugin_get_descriptorv";

// Closes a library handle unless released; used only for libraries that fail
// the checks, whose code has not been asked to create anything yet.
struct DlcloseDeleter {
  void operator()(void* handle) const { dlclose(handle); }
};
using LibraryHandle = std::unique_ptr<void, DlcloseDeleter>;

std::string LastDlError() {
  // dlerror() is per thread in glibc and is reset by reading it.
  const char* error = dlerror();
  return error != nullptr ? error : "unknown dl error";
}

// "dir" + "/libname.so" without doubling the slash of "dir/".
std::string LibraryPath(absl::string_view dir, absl::string_view name) {
  absl::string_view trimmed = dir;
  while (trimmed.size() > 1 && absl::EndsWith(trimmed, "/")) {
    trimmed.remove_suffix(1);
  }
  if (trimmed.empty()) trimmed = ".";
  if (trimmed == "/") trimmed = "";
  return absl::StrCat(trimmed, "/", kLibPrefix, name, kLibSuffix);
}

bool IsRegularFile(const std::string& path) {
  std::error_code error;  // is_regular_file follows symlinks
  return std::filesystem::is_regular_file(path, error);
}

}  // namespace

PluginLoader::PluginLoader(std::vector<std::string> plugin_dirs, absl::Duration create_timeout)
    : plugin_dirs_(std::move(plugin_dirs)), create_timeout_(create_timeout) {}

absl::StatusOr<std::shared_ptr<const Plugin>> PluginLoader::Load(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  if (auto it = loaded_.find(name); it != loaded_.end()) return it->second;
  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = LoadUncached(name);
  if (plugin.ok()) loaded_.emplace(std::string(name), *plugin);
  return plugin;
}

absl::StatusOr<std::string> PluginLoader::FindLibrary(absl::string_view name) const {
  std::vector<std::string> searched;
  for (const std::string& dir : plugin_dirs_) {
    std::string path = LibraryPath(dir, name);
    if (IsRegularFile(path)) return path;
    searched.push_back(dir);
  }
  return absl::NotFoundError(
      absl::StrCat("plugin ", name, ": ", kLibPrefix, name, kLibSuffix, " not found in ",
                   searched.empty() ? "any directory (no plugin directories configured)"
                                    : absl::StrCat("[", absl::StrJoin(searched, ", "), "]")));
}

absl::StatusOr<std::shared_ptr<const Plugin>> PluginLoader::LoadUncached(absl::string_view name) {
  if (!common::IsValidPluginName(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "plugin ", PrintableValue(name), ": invalid plugin name (must match [a-z0-9_-]+)"));
  }
  absl::StatusOr<std::string> path = FindLibrary(name);
  if (!path.ok()) return path.status();
  const std::string prefix = absl::StrCat("plugin ", name, ": ", *path, ": ");

  // Before dlopen: a truncated file would end the process with SIGBUS, and
  // a library for another machine fails with a misleading dlerror().
  if (absl::Status elf = CheckElfLibrary(*path); !elf.ok()) {
    return absl::Status(elf.code(), absl::StrCat(prefix, elf.message()));
  }
  LibraryHandle library(dlopen(path->c_str(), RTLD_NOW | RTLD_LOCAL));
  if (library == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "dlopen failed: ", LastDlError()));
  }
  dlerror();  // clear any stale error so the one below is dlsym's
  void* entry = dlsym(library.get(), RTS_PLUGIN_ENTRY_SYMBOL);
  if (entry == nullptr) {
    std::string error = LastDlError();
    // The commonest cause by far, and a baffling one when the source plainly
    // contains RTS_PLUGIN_DEFINE: say so instead of leaving people to nm.
    const bool mangled = dlsym(library.get(), kMangledEntrySymbol) != nullptr;
    return absl::UnimplementedError(
        absl::StrCat(prefix, "does not export " RTS_PLUGIN_ENTRY_SYMBOL ": ", error,
                     mangled ? " (it exports the C++-mangled name instead: wrap "
                               "RTS_PLUGIN_DEFINE in extern \"C\" { ... })"
                             : ""));
  }
  // POSIX guarantees that a dlsym result can be converted to a function
  // pointer, though ISO C++ only "conditionally supports" the cast.
  const auto get_descriptor = reinterpret_cast<rts_plugin_entry_fn>(entry);
  const rts_plugin_descriptor* descriptor = get_descriptor();

  absl::StatusOr<std::unique_ptr<Plugin>> plugin =
      Plugin::FromDescriptor(name, *path, descriptor, create_timeout_);
  if (!plugin.ok()) return plugin.status();  // `library` is dlclosed here
  library.release();                         // kept for the life of the process, see the header
  return std::shared_ptr<const Plugin>(*std::move(plugin));
}

std::vector<std::string> PluginLoader::ListAvailable() const {
  std::set<std::string> names;
  for (const std::string& dir : plugin_dirs_) {
    std::error_code error;
    std::filesystem::directory_iterator it(dir, error);
    for (; !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
      const std::string file = it->path().filename().string();
      absl::string_view name = file;
      if (!absl::ConsumePrefix(&name, kLibPrefix) || !absl::ConsumeSuffix(&name, kLibSuffix) ||
          !common::IsValidPluginName(name)) {
        continue;
      }
      std::error_code type_error;
      if (it->is_regular_file(type_error)) names.emplace(name);
    }
  }
  return std::vector<std::string>(names.begin(), names.end());
}

}  // namespace rtsptest::core
