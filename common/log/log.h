// Structured logging: one JSON object per line on stdout.
//
// Containers ship stdout to CloudWatch / Loki as-is, so every line is a
// self-contained JSON object: {"ts":..., "level":..., "msg":..., <fields>}.
// GStreamer's and GLib's own warnings and errors are routed here too (by
// core/glib/gst_log_routing.h), so that one stream holds everything; this
// library itself links no GStreamer.
#ifndef RTSPTEST_COMMON_LOG_LOG_H_
#define RTSPTEST_COMMON_LOG_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace rtsptest::common {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// A field value: text, integer, number or boolean.
using LogValue = std::variant<std::string, int64_t, double, bool>;

struct LogField {
  LogField(absl::string_view k, absl::string_view v) : key(k), value(std::string(v)) {}
  LogField(absl::string_view k, const char* v) : key(k), value(std::string(v ? v : "")) {}
  LogField(absl::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(absl::string_view k, int v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(absl::string_view k, unsigned v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(absl::string_view k, long v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(absl::string_view k, unsigned long v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(absl::string_view k, long long v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(absl::string_view k, double v) : key(k), value(v) {}
  LogField(absl::string_view k, bool v) : key(k), value(v) {}
  absl::string_view key;
  LogValue value;
};

// Messages below this level are dropped. Default: kInfo.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Parses "debug" | "info" | "warning" | "error" (case-insensitive).
bool ParseLogLevel(absl::string_view text, LogLevel* level);

// Writes one JSON line. Thread-safe; lines never interleave.
void Log(LogLevel level, absl::string_view message, std::initializer_list<LogField> fields = {});
// The same, for fields assembled at run time.
void Log(LogLevel level, absl::string_view message, const std::vector<LogField>& fields);

// Formats one line, newline included, without writing it (for tests).
std::string FormatLogLine(LogLevel level, absl::string_view message,
                          absl::Span<const LogField> fields);

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_LOG_LOG_H_
