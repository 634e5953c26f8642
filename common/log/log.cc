// JSON-lines logger and the GStreamer/GLib log bridges.
#include "common/log/log.h"

#include <gst/gst.h>

#include <atomic>
#include <cstdio>
#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace rtsptest {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
absl::Mutex g_write_mutex;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void AppendValue(std::string* out, const LogValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    AppendJsonString(out, *s);
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    absl::StrAppend(out, *i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    absl::StrAppend(out, absl::StrFormat("%.6g", *d));
  } else {
    absl::StrAppend(out, std::get<bool>(value) ? "true" : "false");
  }
}

void WriteLine(const std::string& line) {
  absl::MutexLock lock(&g_write_mutex);
  fwrite(line.data(), 1, line.size(), stdout);
  fflush(stdout);
}

// GStreamer warnings that are expected in this server's design and say
// nothing to an operator: logged at debug level instead of flooding the log.
// - a shared media is held prepared by the server, so every reader's
//   suspend attempt finds it "prepared by other client" (two per reader);
// - rtpbin sends before the first reader reports a latency.
bool IsExpectedGstWarning(absl::string_view message) {
  return absl::StrContains(message, "was prepared by other client") ||
         absl::StrContains(message, "without knowing configured latency");
}

// GStreamer debug messages. Runs on whichever streaming thread logged, so it
// only formats and writes; it never calls back into GStreamer objects.
void OnGstLog(GstDebugCategory* category, GstDebugLevel level, const gchar* file,
              const gchar* function, gint line, GObject* object, GstDebugMessage* message,
              gpointer) {
  if (level > GST_LEVEL_WARNING) return;
  const gchar* text = gst_debug_message_get(message);
  LogLevel ours = level == GST_LEVEL_ERROR ? LogLevel::kError : LogLevel::kWarning;
  if (ours == LogLevel::kWarning && text != nullptr && IsExpectedGstWarning(text)) {
    ours = LogLevel::kDebug;
  }
  if (static_cast<int>(ours) < g_level.load()) return;
  std::string where = absl::StrCat(file ? file : "?", ":", line);
  std::string origin;
  if (object != nullptr && GST_IS_OBJECT(object)) {
    gchar* name = gst_object_get_path_string(GST_OBJECT(object));
    origin = name ? name : "";
    g_free(name);
  }
  WriteLine(FormatLogLine(ours, text ? text : "",
                          {{"source", "gstreamer"},
                           {"category", gst_debug_category_get_name(category)},
                           {"where", where},
                           {"function", function ? function : ""},
                           {"object", origin}}));
}

// GLib g_log messages, including g_return_if_fail criticals from libraries.
void OnGLibLog(const gchar* domain, GLogLevelFlags flags, const gchar* message, gpointer) {
  LogLevel level = LogLevel::kInfo;
  if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
    level = LogLevel::kError;
  } else if (flags & G_LOG_LEVEL_WARNING) {
    level = LogLevel::kWarning;
  } else if (flags & G_LOG_LEVEL_DEBUG) {
    level = LogLevel::kDebug;
  }
  if (static_cast<int>(level) < g_level.load()) return;
  WriteLine(FormatLogLine(level, message ? message : "",
                          {{"source", "glib"}, {"domain", domain ? domain : ""}}));
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

bool ParseLogLevel(absl::string_view text, LogLevel* level) {
  std::string lower = absl::AsciiStrToLower(text);
  if (lower == "debug") {
    *level = LogLevel::kDebug;
  } else if (lower == "info") {
    *level = LogLevel::kInfo;
  } else if (lower == "warning" || lower == "warn") {
    *level = LogLevel::kWarning;
  } else if (lower == "error") {
    *level = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

void AppendJsonString(std::string* out, absl::string_view text) {
  out->push_back('"');
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          absl::StrAppend(out, absl::StrFormat("\\u%04x", c));
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

std::string FormatLogLine(LogLevel level, absl::string_view message,
                          absl::Span<const LogField> fields) {
  std::string line = "{\"ts\":";
  AppendJsonString(&line, absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()));
  absl::StrAppend(&line, ",\"level\":\"", LevelName(level), "\",\"msg\":");
  AppendJsonString(&line, message);
  for (const LogField& field : fields) {
    line.push_back(',');
    AppendJsonString(&line, field.key);
    line.push_back(':');
    AppendValue(&line, field.value);
  }
  line.append("}\n");
  return line;
}

void Log(LogLevel level, absl::string_view message, std::initializer_list<LogField> fields) {
  if (static_cast<int>(level) < g_level.load()) return;
  WriteLine(FormatLogLine(level, message, fields));
}

void Log(LogLevel level, absl::string_view message, const std::vector<LogField>& fields) {
  if (static_cast<int>(level) < g_level.load()) return;
  WriteLine(FormatLogLine(level, message, fields));
}

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

}  // namespace rtsptest
