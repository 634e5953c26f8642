// ServerProcess: runs the real rtsp_test_server binary for end-to-end tests.
//
// The server is started with a config written into $TEST_TMPDIR, usually with
// port 0 listeners; the bound ports are learned from the server's own JSON
// log ("listener serving" lines), so tests never guess free ports. Start()
// returns once the server logged "server started" (or exited).
#ifndef RTSPTEST_TESTS_E2E_SERVER_PROCESS_H_
#define RTSPTEST_TESTS_E2E_SERVER_PROCESS_H_

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace rtsptest::testing {

// Path of a file in the test's runfiles, e.g. "app/rtsp_test_server".
std::string RunfilePath(const std::string& relative);
// Writes `content` to a new file under $TEST_TMPDIR and returns its path.
std::string WriteTempFile(const std::string& name, const std::string& content);
// Whether `line` is one of the server's JSON log records: one object with a
// string "ts", a known "level" and a string "msg", quotes balanced (no line
// cut short).
bool IsJsonLogLine(absl::string_view line);
// Whether this process may give a child a private mount namespace (see
// ServerProcess::AddReadOnlyBindMount): root, or Bazel's linux-sandbox.
bool CanMountPrivately();

class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess();  // SIGKILLs a server that is still running.

  // Starts rtsp_test_server with `args`; waits up to `timeout` for "server
  // started". Fails if the process exits first (see WaitForExit()). Adds
  // --grpc_port=0 unless `args` or SetEnv() choose the gRPC port.
  absl::Status Start(std::vector<std::string> args, absl::Duration timeout = absl::Seconds(30));
  // Starts with `--config=<yaml written to a temp file>` plus `args`.
  absl::Status StartWithConfig(const std::string& yaml, std::vector<std::string> args = {},
                               absl::Duration timeout = absl::Seconds(30));

  // Sends `signal` and waits for the exit; returns the exit code, or -signal
  // if it was killed by a signal.
  absl::StatusOr<int> Stop(int signal, absl::Duration timeout = absl::Seconds(30));
  // Waits for the process to exit by itself.
  absl::StatusOr<int> WaitForExit(absl::Duration timeout);
  bool IsRunning();
  pid_t pid() const { return pid_; }

  // Sets an environment variable for the next Start() (e.g. RTSP_TEST_*).
  void SetEnv(const std::string& name, const std::string& value) { env_[name] = value; }
  // Removes an inherited environment variable for the next Start().
  void UnsetEnv(const std::string& name) { env_[name] = std::nullopt; }
  // Shows `source` at `target`, read-only, to the server alone: a bind mount
  // in a private mount namespace of the child (the test's own view of the
  // file system does not change). Needs CanMountPrivately(); a child that
  // cannot mount prints why on stderr and exits 127.
  void AddReadOnlyBindMount(const std::string& source, const std::string& target) {
    read_only_mounts_.push_back({source, target});
  }

  // Bound port of a listener by name (from the log); 0 if unknown.
  int port(const std::string& listener) const;
  std::string url(const std::string& listener, const std::string& path) const;
  // The gRPC (health, control) port, from the log; 0 if unknown.
  int grpc_port() const {
    absl::MutexLock lock(&mutex_);
    return grpc_port_;
  }
  // The embedded HTTP gateway's port (--http_port, 0 = a free one), from the
  // log; 0 until it serves.
  int http_port() const {
    absl::MutexLock lock(&mutex_);
    return http_port_;
  }
  // Everything the server printed so far (stdout and stderr).
  std::string output() const;
  // What the server printed on stderr only.
  std::string error_output() const;
  // Waits until the output contains `text`.
  bool WaitForOutput(const std::string& text, absl::Duration timeout);

 private:
  void ReadOutput(int fd, bool is_stderr);

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::thread reader_;
  std::thread error_reader_;
  std::map<std::string, std::optional<std::string>> env_;  // nullopt: unset
  struct Mount {
    std::string source;
    std::string target;
  };
  std::vector<Mount> read_only_mounts_;
  mutable absl::Mutex mutex_;
  std::string output_ ABSL_GUARDED_BY(mutex_);
  std::string error_output_ ABSL_GUARDED_BY(mutex_);
  int open_pipes_ ABSL_GUARDED_BY(mutex_) = 0;  // "<eof>" ends output_ once both closed
  std::map<std::string, int> ports_ ABSL_GUARDED_BY(mutex_);
  int grpc_port_ ABSL_GUARDED_BY(mutex_) = 0;
  int http_port_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace rtsptest::testing

#endif  // RTSPTEST_TESTS_E2E_SERVER_PROCESS_H_
