// RaiseFileLimit: the process's soft RLIMIT_NOFILE raised to its hard limit.
//
// Every RTSP and gRPC connection holds a file descriptor; the usual soft
// limit (1024) is far below what containers allow as hard limit (ECS and
// Docker default to 65536 or more), and running out makes accept() fail with
// EMFILE. main() raises it first thing; whatever derives a connection limit
// from the descriptors available reads the result from here.
#ifndef RTSPTEST_APP_FILE_LIMIT_H_
#define RTSPTEST_APP_FILE_LIMIT_H_

#include <cstdint>

#include "absl/status/status.h"

namespace rtsptest::app {

struct FileLimit {
  // The soft limit found.
  uint64_t previous = 0;
  // The soft limit now: the hard limit, or `previous` when it could not be
  // raised.
  uint64_t soft = 0;
  uint64_t hard = 0;
  // Why the soft limit could not be raised (a warning: the server still runs).
  absl::Status error;
};

// Raises the soft RLIMIT_NOFILE to the hard limit (to fs.nr_open when the
// hard limit is unlimited). Never lowers it.
FileLimit RaiseFileLimit();

// The current soft RLIMIT_NOFILE; 0 when it cannot be read.
uint64_t SoftFileLimit();

}  // namespace rtsptest::app

#endif  // RTSPTEST_APP_FILE_LIMIT_H_
