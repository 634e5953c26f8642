// Tests for KOfNRule: the default k, validation, and the verdict at every
// count for n = 1..8.
#include "common/k_of_n/k_of_n_rule.h"

#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace rtsptest::common {
namespace {

TEST(KOfNRuleTest, DefaultKIsCeilOfThreeQuarters) {
  // n:                 1  2  3  4  5  6  7  8
  const int kWant[] = {1, 2, 3, 3, 4, 5, 6, 6};
  for (int n = 1; n <= 8; ++n) {
    EXPECT_EQ(common::KOfNRule::DefaultK(n), kWant[n - 1]) << "n=" << n;
    absl::StatusOr<common::KOfNRule> rule = common::KOfNRule::Create(n);
    ASSERT_TRUE(rule.ok()) << rule.status();
    EXPECT_EQ(rule->k(), kWant[n - 1]);
    EXPECT_EQ(rule->n(), n);
  }
}

TEST(KOfNRuleTest, EvaluatesEveryCountForEveryN) {
  for (int n = 1; n <= 8; ++n) {
    for (int k = 1; k <= n; ++k) {
      absl::StatusOr<common::KOfNRule> rule = common::KOfNRule::Create(n, k);
      ASSERT_TRUE(rule.ok()) << rule.status();
      for (int healthy = 0; healthy <= n; ++healthy) {
        EXPECT_EQ(rule->Evaluate(healthy), healthy >= k)
            << "n=" << n << " k=" << k << " healthy=" << healthy;
        std::vector<bool> passing(n, false);
        for (int i = 0; i < healthy; ++i) passing[n - 1 - i] = true;  // Order must not matter.
        EXPECT_EQ(rule->Evaluate(passing), healthy >= k);
      }
    }
  }
}

TEST(KOfNRuleTest, ThreeOfFourIsTheDefault) {
  absl::StatusOr<common::KOfNRule> rule = common::KOfNRule::Create(4);
  ASSERT_TRUE(rule.ok());
  EXPECT_TRUE(rule->Evaluate({true, true, true, true}));
  EXPECT_TRUE(rule->Evaluate({true, false, true, true}));
  EXPECT_FALSE(rule->Evaluate({true, false, false, true}));
  EXPECT_EQ(rule->ToString(), "3 of 4");
}

TEST(KOfNRuleTest, RejectsKOutOfRange) {
  EXPECT_EQ(common::KOfNRule::Create(4, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(common::KOfNRule::Create(4, 5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(common::KOfNRule::Create(4, -1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(common::KOfNRule::Create(4, 4).ok());
  EXPECT_TRUE(common::KOfNRule::Create(4, 1).ok());
}

TEST(KOfNRuleTest, RejectsNoListeners) {
  EXPECT_EQ(common::KOfNRule::Create(0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(common::KOfNRule::Create(-2, 1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KOfNRuleTest, ErrorNamesTheValue) {
  absl::Status status = common::KOfNRule::Create(4, 5).status();
  EXPECT_EQ(status.message(), "health rule: min_healthy_listeners=5: must be 1..4");
}

}  // namespace
}  // namespace rtsptest::common
