// JSON-lines logger.
#include "common/log/log.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/json/json.h"

namespace rtsptest::common {
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

Json ToJson(const LogValue& value) {
  return std::visit([](const auto& v) { return Json(v); }, value);
}

void WriteLine(const std::string& line) {
  absl::MutexLock lock(&g_write_mutex);
  fwrite(line.data(), 1, line.size(), stdout);
  fflush(stdout);
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

std::string FormatLogLine(LogLevel level, absl::string_view message,
                          absl::Span<const LogField> fields) {
  Json line = Json::object();
  line["ts"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  line["level"] = LevelName(level);
  line["msg"] = std::string(message);
  for (const LogField& field : fields) line[std::string(field.key)] = ToJson(field.value);
  return DumpJson(line, JsonFloatStyle::Significant(6)) + "\n";
}

void Log(LogLevel level, absl::string_view message, std::initializer_list<LogField> fields) {
  if (static_cast<int>(level) < g_level.load()) return;
  WriteLine(FormatLogLine(level, message, fields));
}

void Log(LogLevel level, absl::string_view message, const std::vector<LogField>& fields) {
  if (static_cast<int>(level) < g_level.load()) return;
  WriteLine(FormatLogLine(level, message, fields));
}

}  // namespace rtsptest::common
