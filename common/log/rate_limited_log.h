// RateLimitedLog: an error that can repeat thousands of times a second (a
// failed accept while descriptors are exhausted, a flood of bad requests)
// logged at most once per interval, each line counting what it stands for.
#ifndef RTSPTEST_COMMON_LOG_RATE_LIMITED_LOG_H_
#define RTSPTEST_COMMON_LOG_RATE_LIMITED_LOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/log/log.h"

namespace rtsptest::common {

class RateLimitedLog {
 public:
  RateLimitedLog(LogLevel level, std::string message, absl::Duration interval = absl::Seconds(1))
      : level_(level), message_(std::move(message)), interval_(interval) {}

  // Counts one occurrence. Logs it, with `fields` and "occurrences" (how
  // many there were since the previous line, this one included), when the
  // previous line is at least `interval` old. Returns the count logged, or
  // 0 when this one was only counted. Thread-safe.
  int64_t Record(const std::vector<LogField>& fields, absl::Time now = absl::Now())
      ABSL_LOCKS_EXCLUDED(mutex_);

  // Logs the occurrences counted since the last line, if any and if that
  // line is at least `interval` old, with `fields`, so that the tail of a
  // burst is reported too. Call about once per interval. Returns the count
  // logged, or 0.
  int64_t Flush(const std::vector<LogField>& fields, absl::Time now = absl::Now())
      ABSL_LOCKS_EXCLUDED(mutex_);

 private:
  const LogLevel level_;
  const std::string message_;
  const absl::Duration interval_;
  absl::Mutex mutex_;
  // Logs `fields` plus the count when due; 0 when not.
  int64_t LogIfDue(const std::vector<LogField>& fields, absl::Time now) ABSL_LOCKS_EXCLUDED(mutex_);

  absl::Time last_line_ ABSL_GUARDED_BY(mutex_) = absl::InfinitePast();
  int64_t unlogged_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_LOG_RATE_LIMITED_LOG_H_
