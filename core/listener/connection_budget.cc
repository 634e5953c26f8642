// Connection budget: see connection_budget.h.
#include "core/listener/connection_budget.h"

#include <sys/resource.h>

#include <algorithm>
#include <limits>

namespace rtsptest::core {

int ConnectionsPerListener(uint64_t descriptor_limit, int listeners) {
  const uint64_t reserve = std::clamp<uint64_t>(descriptor_limit / 4, 64, 1024);
  const uint64_t budget = descriptor_limit > reserve ? descriptor_limit - reserve : 0;
  const uint64_t each = budget / static_cast<uint64_t>(std::max(listeners, 1));
  return static_cast<int>(
      std::clamp<uint64_t>(each, 1, static_cast<uint64_t>(std::numeric_limits<int>::max())));
}

int DefaultConnectionsPerListener(int listeners) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return ConnectionsPerListener(1 << 20, listeners);
  }
  return ConnectionsPerListener(limit.rlim_cur, listeners);
}

}  // namespace rtsptest::core
