// RaiseFileLimit on this test process: a lowered soft RLIMIT_NOFILE comes
// back up to the hard limit, and one already there stays.
#include "app/file_limit.h"

#include <sys/resource.h>

#include "gtest/gtest.h"

namespace rtsptest::app {
namespace {

// Sets the soft limit for one test and restores the original afterwards.
class FileLimitTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &original_), 0); }
  void TearDown() override { setrlimit(RLIMIT_NOFILE, &original_); }

  rlimit original_{};
};

TEST_F(FileLimitTest, RaisesALoweredSoftLimitToTheHardLimit) {
  if (original_.rlim_max == RLIM_INFINITY || original_.rlim_max <= 128) {
    GTEST_SKIP() << "hard limit " << original_.rlim_max;
  }
  rlimit lowered = original_;
  lowered.rlim_cur = 128;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);

  const FileLimit limit = RaiseFileLimit();

  EXPECT_TRUE(limit.error.ok()) << limit.error;
  EXPECT_EQ(limit.previous, 128u);
  EXPECT_EQ(limit.soft, original_.rlim_max);
  EXPECT_EQ(limit.hard, original_.rlim_max);
  EXPECT_EQ(SoftFileLimit(), original_.rlim_max);
}

TEST_F(FileLimitTest, LeavesASoftLimitAtTheHardLimitAsItIs) {
  rlimit at_hard = original_;
  at_hard.rlim_cur = original_.rlim_max;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &at_hard), 0);

  const FileLimit limit = RaiseFileLimit();

  EXPECT_TRUE(limit.error.ok()) << limit.error;
  EXPECT_EQ(limit.previous, original_.rlim_max);
  EXPECT_EQ(limit.soft, original_.rlim_max);
}

}  // namespace
}  // namespace rtsptest::app
