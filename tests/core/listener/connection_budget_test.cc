// The default connection limit leaves descriptors for the rest of the
// process and shares what remains among the listeners.
#include "core/listener/connection_budget.h"

#include <sys/resource.h>

#include "gtest/gtest.h"

namespace rtsptest::core {
namespace {

TEST(ConnectionBudgetTest, AQuarterIsKeptBackBetween64And1024) {
  // 1024 descriptors (a common default soft limit): 256 kept back.
  EXPECT_EQ(ConnectionsPerListener(1024, 4), 192);
  // 65536 (ECS Fargate's default): 1024 kept back.
  EXPECT_EQ(ConnectionsPerListener(65536, 4), 16128);
  // 200: at least 64 kept back.
  EXPECT_EQ(ConnectionsPerListener(200, 4), 34);
}

TEST(ConnectionBudgetTest, EveryListenerGetsAtLeastOne) {
  EXPECT_EQ(ConnectionsPerListener(32, 4), 1);
  EXPECT_EQ(ConnectionsPerListener(1024, 0), 768);
}

TEST(ConnectionBudgetTest, TheDefaultFollowsTheSoftLimit) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = 1024;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  EXPECT_EQ(DefaultConnectionsPerListener(4), 192);
  setrlimit(RLIMIT_NOFILE, &saved);
}

}  // namespace
}  // namespace rtsptest::core
