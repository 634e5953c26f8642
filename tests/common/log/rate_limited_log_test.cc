// A repeated error is logged at most once per interval, and each line counts
// the occurrences it stands for, so none goes unaccounted.
#include "common/log/rate_limited_log.h"

#include "gtest/gtest.h"

namespace rtsptest::testing {
namespace {

using common::LogLevel;
using common::RateLimitedLog;

TEST(RateLimitedLogTest, TheFirstOccurrenceIsLoggedAtOnce) {
  RateLimitedLog log(LogLevel::kWarning, "accept failed", absl::Seconds(1));
  EXPECT_EQ(log.Record({{"errno", 24}}, absl::FromUnixSeconds(100)), 1);
}

TEST(RateLimitedLogTest, OccurrencesWithinTheIntervalAreCountedIntoTheNextLine) {
  RateLimitedLog log(LogLevel::kWarning, "accept failed", absl::Seconds(1));
  const absl::Time start = absl::FromUnixSeconds(100);
  ASSERT_EQ(log.Record({}, start), 1);
  for (int i = 1; i <= 999; ++i) {
    EXPECT_EQ(log.Record({}, start + i * absl::Milliseconds(1)), 0) << i;
  }
  // 999 counted, plus this one.
  EXPECT_EQ(log.Record({}, start + absl::Seconds(1)), 1000);
  EXPECT_EQ(log.Record({}, start + absl::Milliseconds(1500)), 0);
  EXPECT_EQ(log.Record({}, start + absl::Seconds(10)), 2);
}

// The tail of a burst is not lost: Flush() reports it once it is due.
TEST(RateLimitedLogTest, FlushReportsWhatIsLeftOfABurst) {
  RateLimitedLog log(LogLevel::kWarning, "accept failed", absl::Seconds(1));
  const absl::Time start = absl::FromUnixSeconds(100);
  EXPECT_EQ(log.Flush({}, start), 0);  // nothing counted
  ASSERT_EQ(log.Record({}, start), 1);
  for (int i = 1; i <= 4; ++i) log.Record({}, start + i * absl::Milliseconds(10));
  EXPECT_EQ(log.Flush({}, start + absl::Milliseconds(500)), 0);  // not due yet
  EXPECT_EQ(log.Flush({}, start + absl::Seconds(1)), 4);
  EXPECT_EQ(log.Flush({}, start + absl::Seconds(3)), 0);  // nothing since
}

}  // namespace
}  // namespace rtsptest::testing
