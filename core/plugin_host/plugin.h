// A source plugin that passed every load-time check, and the two things the
// server does with it: validate a stream's parameters and create the stream's
// GStreamer element.
#ifndef RTSPTEST_CORE_PLUGIN_HOST_PLUGIN_H_
#define RTSPTEST_CORE_PLUGIN_HOST_PLUGIN_H_

#include <gst/gst.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/glib/gst_ptr.h"
#include "core/plugin_host/parameter_validator.h"
#include "plugins/sdk/rts_plugin.h"

namespace rtsptest::core {

// How long a plugin's create may take before the host gives up on it. Ten
// seconds: the slowest honest create in this repository (the file plugin,
// whose GstDiscoverer is bounded at 5 s) fits twice, and it equals the
// bound on a new stream's first packets (core/media), so that a stream's
// start-up is bounded by the same order of time at every step.
inline constexpr absl::Duration kDefaultCreateTimeout = absl::Seconds(10);

// "int", "double", "bool", "string" or "enum" ("unknown" for a value the
// descriptor checks would have refused).
const char* ParamTypeName(rts_param_type type);

// Immutable and thread-safe: every method is const and the descriptor never
// changes (rts_plugin.h requires it to be constant while loaded).
//
// A Plugin does not own its shared object. The loader never dlcloses a
// library that passed the checks; see plugin_loader.h for why.
class Plugin {
 public:
  // Checks `descriptor` (see CheckDescriptor: ABI, name == `name`, schema)
  // and wraps it. `path` is the file it came from, used in messages; empty
  // for a descriptor that is compiled into the binary. `descriptor` must
  // outlive the Plugin. Errors start with "plugin <name>: <path>: " and keep
  // the check's code (FailedPrecondition for ABI, else InvalidArgument).
  //
  // Before anything reads it, the descriptor is checked to be readable
  // memory (descriptor_memory.h): a wild pointer from the plugin is an
  // InvalidArgument naming the field, never a SIGSEGV.
  //
  // `create_timeout` bounds each call of the plugin's create (see
  // CreateElement).
  static absl::StatusOr<std::unique_ptr<Plugin>> FromDescriptor(
      absl::string_view name, std::string path, const rts_plugin_descriptor* descriptor,
      absl::Duration create_timeout = kDefaultCreateTimeout);

  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  const std::string& name() const { return name_; }
  // The file the plugin was loaded from (empty if compiled in).
  const std::string& path() const { return path_; }
  // Checked: name, version, description and create are non-NULL, and the
  // schema is valid. A parameter's help may be NULL.
  const rts_plugin_descriptor& descriptor() const { return *descriptor_; }

  // Checks `raw` against the schema and returns every schema parameter in
  // schema order, defaults filled in, values in canonical form (bools as
  // "true"/"false"). Errors are InvalidArgument, e.g.
  //   "stream /cam1: plugin testpattern: parameter fps=0: must be in 1..120"
  absl::StatusOr<ParameterList> ValidateParameters(
      absl::string_view stream_path, const std::map<std::string, std::string>& raw) const;

  // Validates `raw`, then calls the plugin's create. Returns the element
  // with its floating reference sunk. InvalidArgument when create fails
  // ("... create failed: <plugin's message>"), returns something that is
  // not a GstElement, or returns an element without a payloader named
  // "pay0" (a bin must contain one; a lone element must itself be named
  // "pay0"), because gst-rtsp-server would then serve no stream at all.
  //
  // The plugin's create runs on a thread of its own, and is given
  // create_timeout() to return. A create that blocks cannot be stopped (a
  // thread cannot be cancelled safely in arbitrary code), so on time-out it
  // is abandoned: its thread stays detached, blocked inside the plugin, and
  // whatever it returns later is released unused (and logged). The call
  // returns DeadlineExceeded:
  //   "stream /cam1: plugin x: create() did not return within 10s; ..."
  // While an abandoned call of this plugin has not returned, every further
  // CreateElement of it fails at once with Unavailable, so that a plugin
  // that hangs costs one stuck thread, not one per retry; restarting the
  // process is the only way to reclaim that thread (and the plugin's state,
  // which the stuck call may have left inconsistent).
  absl::StatusOr<GstPtr<GstElement>> CreateElement(
      absl::string_view stream_path, const std::map<std::string, std::string>& raw) const;

  absl::Duration create_timeout() const { return create_timeout_; }
  // Calls of create abandoned on time-out that have not returned yet.
  int stuck_creates() const { return stuck_creates_->load(); }

 private:
  Plugin(std::string name, std::string path, const rts_plugin_descriptor* descriptor,
         absl::Duration create_timeout);

  // "stream <path>: plugin <name>: " for stream-time errors.
  std::string StreamPrefix(absl::string_view stream_path) const;

  const std::string name_;
  const std::string path_;
  const rts_plugin_descriptor* const descriptor_;  // owned by the library
  const absl::Duration create_timeout_;
  // Shared with the threads of abandoned calls, which may outlive the Plugin.
  const std::shared_ptr<std::atomic<int>> stuck_creates_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_PLUGIN_HOST_PLUGIN_H_
