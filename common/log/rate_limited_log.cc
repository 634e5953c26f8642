// RateLimitedLog: see rate_limited_log.h.
#include "common/log/rate_limited_log.h"

namespace rtsptest::common {

int64_t RateLimitedLog::Record(const std::vector<LogField>& fields, absl::Time now) {
  {
    absl::MutexLock lock(&mutex_);
    ++unlogged_;
  }
  return LogIfDue(fields, now);
}

int64_t RateLimitedLog::Flush(const std::vector<LogField>& fields, absl::Time now) {
  return LogIfDue(fields, now);
}

int64_t RateLimitedLog::LogIfDue(const std::vector<LogField>& fields, absl::Time now) {
  int64_t occurrences;
  {
    absl::MutexLock lock(&mutex_);
    if (unlogged_ == 0 || now - last_line_ < interval_) return 0;
    last_line_ = now;
    occurrences = unlogged_;
    unlogged_ = 0;
  }
  std::vector<LogField> line = fields;
  line.emplace_back("occurrences", static_cast<int64_t>(occurrences));
  Log(level_, message_, line);
  return occurrences;
}

}  // namespace rtsptest::common
