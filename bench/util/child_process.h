// What the benchmarks share: the server processes they start (Child), the
// binaries they find in their runfiles, and fields of the server's JSON log
// lines.
#ifndef RTSPTEST_BENCH_UTIL_CHILD_PROCESS_H_
#define RTSPTEST_BENCH_UTIL_CHILD_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace rtsptest::bench {

// A file of this workspace in the running binary's runfiles tree.
std::string Runfile(const std::string& relative);

// Extracts "key":value or "key":"value" from a JSON log line ("" if absent).
std::string JsonField(const std::string& line, const std::string& key);

// A child process whose stdout+stderr is read line by line on a thread; it
// is sent SIGTERM (and then SIGKILL) on destruction, and SIGKILL by the
// kernel if this process dies first.
class Child {
 public:
  ~Child() { Stop(); }

  bool Start(const std::vector<std::string>& argv);
  // Waits for a line containing `marker`; returns it, or nullopt on EOF or
  // timeout.
  std::optional<std::string> WaitForLine(const std::string& marker, absl::Duration timeout);
  std::vector<std::string> Lines();
  pid_t pid() const { return pid_; }
  // CPU time (user + system) the process used so far, from /proc.
  absl::Duration CpuTime() const;
  void Stop();

 private:
  pid_t pid_ = -1;
  std::thread reader_;
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
  bool eof_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace rtsptest::bench

#endif  // RTSPTEST_BENCH_UTIL_CHILD_PROCESS_H_
