// A source plugin that passed every load-time check, and the two things the
// server does with it: validate a stream's parameters and create the stream's
// GStreamer element.
#ifndef RTSPTEST_CORE_PLUGIN_HOST_PLUGIN_H_
#define RTSPTEST_CORE_PLUGIN_HOST_PLUGIN_H_

#include <gst/gst.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/glib/gst_ptr.h"
#include "core/plugin_host/parameter_validator.h"
#include "plugins/sdk/rts_plugin.h"

namespace rtsptest::core {

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
  static absl::StatusOr<std::unique_ptr<Plugin>> FromDescriptor(
      absl::string_view name, std::string path, const rts_plugin_descriptor* descriptor);

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
  absl::StatusOr<GstPtr<GstElement>> CreateElement(
      absl::string_view stream_path, const std::map<std::string, std::string>& raw) const;

 private:
  Plugin(std::string name, std::string path, const rts_plugin_descriptor* descriptor);

  // "stream <path>: plugin <name>: " for stream-time errors.
  std::string StreamPrefix(absl::string_view stream_path) const;

  const std::string name_;
  const std::string path_;
  const rts_plugin_descriptor* const descriptor_;  // owned by the library
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_PLUGIN_HOST_PLUGIN_H_
