// A checked plugin: parameter validation and element creation; see plugin.h.
#include "core/plugin_host/plugin.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/plugin_host/descriptor_checks.h"

namespace rtsptest::core {
namespace {

// Room for the plugin's error message; longer ones are cut, never overrun
// (the SDK's RTS_PLUGIN_ERROR uses snprintf with this size).
constexpr size_t kCreateErrorSize = 1024;

absl::Status WithPrefix(absl::string_view prefix, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

// Says whether gst-rtsp-server will find a payloader in `element`. It looks
// pay0 up with gst_bin_get_by_name, which searches nested bins too, so we do
// the same. A lone element can only work as the payloader itself.
bool HasPay0(GstElement* element) {
  if (GST_IS_BIN(element)) {
    GstElement* pay0 = gst_bin_get_by_name(GST_BIN(element), "pay0");
    if (pay0 == nullptr) return false;
    gst_object_unref(pay0);
    return true;
  }
  GCharPtr name(gst_element_get_name(element));
  return name != nullptr && absl::string_view(name.get()) == "pay0";
}

}  // namespace

const char* ParamTypeName(rts_param_type type) {
  switch (type) {
    case RTS_PARAM_TYPE_INT:
      return "int";
    case RTS_PARAM_TYPE_DOUBLE:
      return "double";
    case RTS_PARAM_TYPE_BOOL:
      return "bool";
    case RTS_PARAM_TYPE_STRING:
      return "string";
    case RTS_PARAM_TYPE_ENUM:
      return "enum";
    case RTS_PARAM_TYPE_UNSPECIFIED:
      break;
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<Plugin>> Plugin::FromDescriptor(
    absl::string_view name, std::string path, const rts_plugin_descriptor* descriptor) {
  const std::string prefix = path.empty() ? absl::StrCat("plugin ", name, ": ")
                                          : absl::StrCat("plugin ", name, ": ", path, ": ");
  if (descriptor == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, RTS_PLUGIN_ENTRY_SYMBOL "() returned NULL"));
  }
  absl::Status status = CheckDescriptor(*descriptor, name);
  if (!status.ok()) return WithPrefix(prefix, status);
  // Not make_unique: the constructor is private.
  return std::unique_ptr<Plugin>(new Plugin(std::string(name), std::move(path), descriptor));
}

Plugin::Plugin(std::string name, std::string path, const rts_plugin_descriptor* descriptor)
    : name_(std::move(name)), path_(std::move(path)), descriptor_(descriptor) {}

std::string Plugin::StreamPrefix(absl::string_view stream_path) const {
  return absl::StrCat("stream ", stream_path, ": plugin ", name_, ": ");
}

absl::StatusOr<ParameterList> Plugin::ValidateParameters(
    absl::string_view stream_path, const std::map<std::string, std::string>& raw) const {
  absl::StatusOr<ParameterList> params =
      core::ValidateParameters(descriptor_->params, descriptor_->param_count, raw);
  if (!params.ok()) return WithPrefix(StreamPrefix(stream_path), params.status());
  return params;
}

absl::StatusOr<GstPtr<GstElement>> Plugin::CreateElement(
    absl::string_view stream_path, const std::map<std::string, std::string>& raw) const {
  absl::StatusOr<ParameterList> params = ValidateParameters(stream_path, raw);
  if (!params.ok()) return params.status();

  // The context points into `params` and `path`, which outlive the call; the
  // plugin must copy anything it keeps (rts_plugin.h, "Ownership").
  std::vector<rts_param> c_params;
  c_params.reserve(params->size());
  for (const auto& [name, value] : *params) {
    c_params.push_back(rts_param{name.c_str(), value.c_str()});
  }
  const std::string path(stream_path);
  rts_stream_context context = {};
  context.stream_path = path.c_str();
  context.params = c_params.empty() ? nullptr : c_params.data();
  context.param_count = c_params.size();

  char error[kCreateErrorSize] = {};
  void* created = descriptor_->create(&context, error, sizeof(error));
  error[sizeof(error) - 1] = '\0';  // in case the plugin filled it unterminated

  const std::string prefix = StreamPrefix(stream_path);
  if (created == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "create failed: ",
                     error[0] != '\0' ? PrintableValue(error) : "(the plugin gave no reason)"));
  }
  // The ABI passes the element as void*. A pointer that is not a GObject at
  // all cannot be detected safely; anything else that is not an element is
  // released and reported.
  if (!GST_IS_ELEMENT(created)) {
    if (G_IS_OBJECT(created)) g_object_unref(g_object_ref_sink(created));
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "create returned an object that is not a GstElement"));
  }
  GstPtr<GstElement> element = AdoptGst(GST_ELEMENT(created));
  if (!HasPay0(element.get())) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "create returned an element that has no payloader named pay0"));
  }
  return element;
}

}  // namespace rtsptest::core
