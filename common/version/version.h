// The product version, shown by --version, logs, GetHealthReport and /metrics.
#ifndef RTSPTEST_COMMON_VERSION_VERSION_H_
#define RTSPTEST_COMMON_VERSION_VERSION_H_

namespace rtsptest::common {

inline constexpr char kVersion[] = "0.1.0";

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_VERSION_VERSION_H_
