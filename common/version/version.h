// The product version, shown by --version, logs, GetHealthReport and /metrics.
#ifndef RTSPTEST_SERVER_VERSION_H_
#define RTSPTEST_SERVER_VERSION_H_

namespace rtsptest {

inline constexpr char kVersion[] = "0.1.0";

}  // namespace rtsptest

#endif  // RTSPTEST_SERVER_VERSION_H_
