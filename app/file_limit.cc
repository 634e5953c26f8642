// RaiseFileLimit implementation.
#include "app/file_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace rtsptest::app {
namespace {

// The kernel's ceiling for RLIMIT_NOFILE (fs.nr_open): an unlimited hard
// limit cannot be given to the soft limit as such.
uint64_t NrOpen() {
  std::ifstream file("/proc/sys/fs/nr_open");
  uint64_t value = 0;
  if (!(file >> value)) value = 1048576;  // the kernel's default
  return value;
}

}  // namespace

FileLimit RaiseFileLimit() {
  FileLimit result;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    result.error = absl::ErrnoToStatus(errno, "getrlimit(RLIMIT_NOFILE)");
    return result;
  }
  result.previous = limit.rlim_cur;
  result.soft = limit.rlim_cur;
  result.hard = limit.rlim_max;
  rlim_t target = limit.rlim_max;
  if (target == RLIM_INFINITY) target = NrOpen();
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= target) return result;
  limit.rlim_cur = target;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    result.error =
        absl::ErrnoToStatus(errno, absl::StrCat("setrlimit(RLIMIT_NOFILE) from ", result.previous,
                                                " to ", static_cast<uint64_t>(target)));
    return result;
  }
  result.soft = target;
  return result;
}

uint64_t SoftFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  return limit.rlim_cur;
}

}  // namespace rtsptest::app
