// GStreamer and GLib log bridges into common/log.
#include "core/glib/gst_log_routing.h"

#include <gst/gst.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/log/log.h"

namespace rtsptest::core {
namespace {

// GStreamer warnings that are expected in this server's design and say
// nothing to an operator: logged at debug level instead of flooding the log.
// - a shared media is held prepared by the server, so every reader's
//   suspend attempt finds it "prepared by other client" (two per reader);
// - rtpbin sends before the first reader reports a latency.
bool IsExpectedGstWarning(absl::string_view message) {
  return absl::StrContains(message, "was prepared by other client") ||
         absl::StrContains(message, "without knowing configured latency");
}

bool Enabled(common::LogLevel level) {
  return static_cast<int>(level) >= static_cast<int>(common::GetLogLevel());
}

// GStreamer debug messages. Runs on whichever streaming thread logged, so it
// only formats and writes; it never calls back into GStreamer objects.
void OnGstLog(GstDebugCategory* category, GstDebugLevel level, const gchar* file,
              const gchar* function, gint line, GObject* object, GstDebugMessage* message,
              gpointer) {
  if (level > GST_LEVEL_WARNING) return;
  const gchar* text = gst_debug_message_get(message);
  common::LogLevel ours =
      level == GST_LEVEL_ERROR ? common::LogLevel::kError : common::LogLevel::kWarning;
  if (ours == common::LogLevel::kWarning && text != nullptr && IsExpectedGstWarning(text)) {
    ours = common::LogLevel::kDebug;
  }
  if (!Enabled(ours)) return;
  std::string where = absl::StrCat(file ? file : "?", ":", line);
  std::string origin;
  if (object != nullptr && GST_IS_OBJECT(object)) {
    gchar* name = gst_object_get_path_string(GST_OBJECT(object));
    origin = name ? name : "";
    g_free(name);
  }
  common::Log(ours, text ? text : "",
              {{"source", "gstreamer"},
               {"category", gst_debug_category_get_name(category)},
               {"where", where},
               {"function", function ? function : ""},
               {"object", origin}});
}

// GLib g_log messages, including g_return_if_fail criticals from libraries.
void OnGLibLog(const gchar* domain, GLogLevelFlags flags, const gchar* message, gpointer) {
  common::LogLevel level = common::LogLevel::kInfo;
  if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
    level = common::LogLevel::kError;
  } else if (flags & G_LOG_LEVEL_WARNING) {
    level = common::LogLevel::kWarning;
  } else if (flags & G_LOG_LEVEL_DEBUG) {
    level = common::LogLevel::kDebug;
  }
  common::Log(level, message ? message : "",
              {{"source", "glib"}, {"domain", domain ? domain : ""}});
}

}  // namespace

void InstallGstLogRouting() {
  gst_debug_remove_log_function(gst_debug_log_default);
  gst_debug_add_log_function(&OnGstLog, nullptr, nullptr);
  // Unless the user asked for GStreamer debug output, let warnings through.
  if (gst_debug_get_default_threshold() < GST_LEVEL_WARNING) {
    gst_debug_set_default_threshold(GST_LEVEL_WARNING);
  }
  gst_debug_set_active(TRUE);
  g_log_set_default_handler(&OnGLibLog, nullptr);
}

}  // namespace rtsptest::core
