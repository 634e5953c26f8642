// KOfNRule: the server is healthy while at least k of its n listeners pass.
//
// The rule is pure (no clock, no I/O) so that the monitor, the `ports` mode
// of health_probe and the docs all share one definition of "healthy".
#ifndef RTSPTEST_COMMON_K_OF_N_K_OF_N_RULE_H_
#define RTSPTEST_COMMON_K_OF_N_K_OF_N_RULE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rtsptest::common {

class KOfNRule {
 public:
  // The default k for n listeners: ceil(0.75 * n), i.e. 3 of 4, 1 of 1,
  // 2 of 2, 3 of 3, 4 of 5. Requires n >= 1.
  static int DefaultK(int n);

  // A rule for `n` listeners needing `k` to pass (DefaultK(n) when unset).
  // InvalidArgument unless 1 <= k <= n.
  static absl::StatusOr<KOfNRule> Create(int n, std::optional<int> k = std::nullopt);

  // True when `healthy_count` listeners passing satisfies the rule.
  bool Evaluate(int healthy_count) const { return healthy_count >= k_; }
  // Counts the passing listeners. A vector whose size is not n is still
  // judged by its count: the rule is about how many pass, not which.
  bool Evaluate(const std::vector<bool>& passing) const;

  int k() const { return k_; }
  int n() const { return n_; }
  // "3 of 4", for logs and messages.
  std::string ToString() const;

 private:
  KOfNRule(int k, int n) : k_(k), n_(n) {}

  int k_;
  int n_;
};

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_K_OF_N_K_OF_N_RULE_H_
