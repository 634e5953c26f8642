// Finds, loads and checks source plugins (lib<name>.so files exporting the C
// ABI of plugins/sdk/rts_plugin.h), and caches the ones that pass.
//
// Usage:
//   PluginLoader loader({"/usr/lib/rtsp-test-server/plugins", "./plugins"});
//   absl::StatusOr<std::shared_ptr<const Plugin>> plugin =
//       loader.Load("testpattern");
//   if (!plugin.ok()) { /* report; the server goes on with other plugins */ }
//   auto element = (*plugin)->CreateElement("/cam1", {{"fps", "25"}});
#ifndef RTSPTEST_CORE_PLUGIN_HOST_PLUGIN_LOADER_H_
#define RTSPTEST_CORE_PLUGIN_HOST_PLUGIN_LOADER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/plugin_name/plugin_name.h"
#include "core/plugin_host/plugin.h"

namespace rtsptest::core {

// The loader accepts only names that pass IsValidPluginName
// (common/plugin_name): [a-z0-9_-]+.
using ::rtsptest::common::IsValidPluginName;

// Thread-safe. Each plugin's library is opened once with
// dlopen(RTLD_NOW | RTLD_LOCAL): RTLD_NOW so that a missing symbol fails the
// load instead of aborting the server at some later call, RTLD_LOCAL so that
// two plugins never resolve each other's symbols.
//
// Libraries that pass the checks are never dlclosed. Elements a plugin
// created point into its code (vtables, pad functions, GType classes) for
// as long as any pipeline holds them, and GLib cannot unregister a static
// GType, so there is no point at which unloading is safe. Plugins are few,
// so the cost is a few mappings for the life of the process.
//
// Failures are not cached: a failed Load leaves no state behind (a rejected
// library is dlclosed at once; its create was never called), so the next
// Load of that name searches and checks again. An operator can fix or drop
// in a plugin file and retry through the control API without a restart.
// Successes are cached by name for the life of the loader; replacing a
// loaded plugin's file takes a restart.
class PluginLoader {
 public:
  // Directories are searched in order; the first lib<name>.so found wins.
  // Every plugin's create is bounded by `create_timeout` (Plugin::CreateElement).
  explicit PluginLoader(std::vector<std::string> plugin_dirs,
                        absl::Duration create_timeout = kDefaultCreateTimeout);

  PluginLoader(const PluginLoader&) = delete;
  PluginLoader& operator=(const PluginLoader&) = delete;

  // Returns the plugin `name`, loading and checking it on first use. Status
  // codes (every message starts with "plugin <name>: "):
  //   InvalidArgument     name not [a-z0-9_-]+; the file is not an ELF
  //                       shared library for this machine, or is truncated
  //                       (see elf_check.h; checked before dlopen, which
  //                       would crash on a truncated file); dlopen failed (path and
  //                       dlerror); entry point returned NULL or a
  //                       pointer to unreadable memory, or a descriptor
  //                       whose strings, schema or create point to
  //                       unreadable memory or outside any library
  //                       (descriptor_memory.h); descriptor
  //                       name differs from the file name; bad schema or
  //                       missing version/description/create.
  //   NotFound            no lib<name>.so in any directory (lists them).
  //   Unimplemented       the library does not export
  //                       rts_plugin_get_descriptor (with dlerror).
  //   FailedPrecondition  ABI major differs from the host's, or ABI minor
  //                       is newer than the host's.
  // Holds the loader's lock across dlopen, so concurrent first loads of one
  // name open the library once; a plugin's ELF constructors therefore must
  // not call back into this loader (they have no way to reach it anyway).
  absl::StatusOr<std::shared_ptr<const Plugin>> Load(absl::string_view name)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Names of the plugins present in the directories, for --list_plugins:
  // every regular file (or symlink to one) named lib<name>.so whose <name>
  // is valid. Sorted, unique; missing or unreadable directories are skipped.
  // Presence only: nothing is loaded or checked.
  std::vector<std::string> ListAvailable() const;

  const std::vector<std::string>& plugin_dirs() const { return plugin_dirs_; }

 private:
  // Returns the path of the first lib<name>.so in plugin_dirs_.
  absl::StatusOr<std::string> FindLibrary(absl::string_view name) const;

  // dlopen, entry point, checks. No caching.
  absl::StatusOr<std::shared_ptr<const Plugin>> LoadUncached(absl::string_view name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::vector<std::string> plugin_dirs_;
  const absl::Duration create_timeout_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<const Plugin>, std::less<>> loaded_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_PLUGIN_HOST_PLUGIN_LOADER_H_
