// A checked plugin: parameter validation and element creation; see plugin.h.
#include "core/plugin_host/plugin.h"

#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log/log.h"
#include "core/plugin_host/descriptor_checks.h"
#include "core/plugin_host/descriptor_memory.h"

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

// One call of a plugin's create, shared by the caller and the thread that
// runs it: everything the plugin may touch lives here, so that an abandoned
// call can go on reading its context after the caller has returned.
struct CreateCall {
  std::string stream_path;
  ParameterList params;
  std::vector<rts_param> c_params;
  rts_stream_context context = {};
  char error[kCreateErrorSize] = {};

  absl::Mutex mutex;
  bool returned ABSL_GUARDED_BY(mutex) = false;
  bool abandoned ABSL_GUARDED_BY(mutex) = false;
  void* created ABSL_GUARDED_BY(mutex) = nullptr;
};

// Releases what an abandoned create returned after its caller gave up on
// it. Nothing else ever sees it.
void DiscardLateResult(const std::string& plugin, const std::string& stream_path, void* created) {
  common::Log(common::LogLevel::kWarning, "plugin create returned after its time-out; discarded",
              {{"plugin", plugin},
               {"stream", stream_path},
               {"returned", created != nullptr ? "an object" : "NULL"}});
  if (created != nullptr && G_IS_OBJECT(created)) g_object_unref(g_object_ref_sink(created));
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
    absl::string_view name, std::string path, const rts_plugin_descriptor* descriptor,
    absl::Duration create_timeout) {
  const std::string prefix = path.empty() ? absl::StrCat("plugin ", name, ": ")
                                          : absl::StrCat("plugin ", name, ": ", path, ": ");
  if (descriptor == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, RTS_PLUGIN_ENTRY_SYMBOL "() returned NULL"));
  }
  // Readable first: CheckDescriptor dereferences every field.
  absl::Status status = CheckDescriptorMemory(descriptor);
  if (status.ok()) status = CheckDescriptor(*descriptor, name);
  if (!status.ok()) return WithPrefix(prefix, status);
  // Not make_unique: the constructor is private.
  return std::unique_ptr<Plugin>(
      new Plugin(std::string(name), std::move(path), descriptor, create_timeout));
}

Plugin::Plugin(std::string name, std::string path, const rts_plugin_descriptor* descriptor,
               absl::Duration create_timeout)
    : name_(std::move(name)),
      path_(std::move(path)),
      descriptor_(descriptor),
      create_timeout_(create_timeout) {}

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

  const std::string prefix = StreamPrefix(stream_path);
  if (int stuck = stuck_creates_->load(); stuck > 0) {
    return absl::UnavailableError(absl::StrCat(
        prefix, "not called: ", stuck,
        " earlier create() call(s) of this plugin did not return within ",
        absl::FormatDuration(create_timeout_), " and are still blocked; restart the process"));
  }

  // The context points into `call`, which the plugin's thread shares: an
  // abandoned call may read it after we have returned (rts_plugin.h,
  // "Ownership", only promises it for the duration of the call).
  auto call = std::make_shared<CreateCall>();
  call->stream_path = std::string(stream_path);
  call->params = *std::move(params);
  call->c_params.reserve(call->params.size());
  for (const auto& [name, value] : call->params) {
    call->c_params.push_back(rts_param{name.c_str(), value.c_str()});
  }
  call->context.stream_path = call->stream_path.c_str();
  call->context.params = call->c_params.empty() ? nullptr : call->c_params.data();
  call->context.param_count = call->c_params.size();

  // A thread per call: creates are rare (one per stream), and only a thread
  // of our own can be left behind when the plugin never returns.
  std::thread([call, create = descriptor_->create, stuck = stuck_creates_, plugin = name_] {
    void* created = create(&call->context, call->error, sizeof(call->error));
    bool late = false;
    {
      absl::MutexLock lock(&call->mutex);
      call->returned = true;
      call->created = created;
      late = call->abandoned;
    }
    if (late) {
      stuck->fetch_sub(1);
      DiscardLateResult(plugin, call->stream_path, created);
    }
  }).detach();

  void* created = nullptr;
  {
    absl::MutexLock lock(&call->mutex);
    if (!call->mutex.AwaitWithTimeout(absl::Condition(&call->returned), create_timeout_)) {
      // Under the lock, so that the thread sees either "not abandoned" and
      // we take its result, or "abandoned" and it discards it: never both.
      call->abandoned = true;
      stuck_creates_->fetch_add(1);
      return absl::DeadlineExceededError(absl::StrCat(
          prefix, "create() did not return within ", absl::FormatDuration(create_timeout_),
          "; the call is abandoned (its thread stays blocked in the plugin and anything it "
          "returns later is discarded; restart the process to reclaim it)"));
    }
    created = call->created;
  }
  char* error = call->error;
  error[kCreateErrorSize - 1] = '\0';  // in case the plugin filled it unterminated

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
