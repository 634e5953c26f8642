// Running a program from a test: a binary with its output in files (a pipe
// could fill up while the test waits), or a shell command read through a
// pipe.
#ifndef RTSPTEST_TESTS_UTIL_SUBPROCESS_H_
#define RTSPTEST_TESTS_UTIL_SUBPROCESS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace rtsptest::testing {

struct ProgramResult {
  // The exit code, 128 + the signal when killed, -1 when it did not start.
  int exit_code = -1;
  std::string out;
  std::string err;
  // From spawn to exit.
  absl::Duration took;
};

// Runs `binary` with `args` in this process's environment and waits for it.
// Its stdout and stderr go to files under $TEST_TMPDIR named after
// `output_name`, and are read back.
ProgramResult RunProgram(const std::string& binary, const std::vector<std::string>& args,
                         const std::string& output_name);

// Runs `command` with /bin/sh; returns its stdout and pclose()'s status.
std::pair<std::string, int> RunShell(const std::string& command);

}  // namespace rtsptest::testing

#endif  // RTSPTEST_TESTS_UTIL_SUBPROCESS_H_
