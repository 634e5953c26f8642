// KOfNRule: see k_of_n_rule.h.
#include "common/k_of_n/k_of_n_rule.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace rtsptest::common {

int KOfNRule::DefaultK(int n) {
  // ceil(3n / 4) in integers, so that no float rounding can move a boundary.
  return (3 * n + 3) / 4;
}

absl::StatusOr<KOfNRule> KOfNRule::Create(int n, std::optional<int> k) {
  if (n < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("health rule: listener count n=", n, ": must be >= 1"));
  }
  const int min_healthy = k.has_value() ? *k : DefaultK(n);
  if (min_healthy < 1 || min_healthy > n) {
    return absl::InvalidArgumentError(
        absl::StrCat("health rule: min_healthy_listeners=", min_healthy, ": must be 1..", n));
  }
  return KOfNRule(min_healthy, n);
}

bool KOfNRule::Evaluate(const std::vector<bool>& passing) const {
  return Evaluate(static_cast<int>(std::count(passing.begin(), passing.end(), true)));
}

std::string KOfNRule::ToString() const { return absl::StrCat(k_, " of ", n_); }

}  // namespace rtsptest::common
