// Runs the built rtsp_bench from a test and reads back what it wrote: the
// exit code, stderr, the JSON report and the per-reader CSV.
#ifndef RTSPTEST_TESTS_TOOLS_RTSP_BENCH_BENCH_RUNNER_H_
#define RTSPTEST_TESTS_TOOLS_RTSP_BENCH_BENCH_RUNNER_H_

#include <string>
#include <vector>

#include "common/json/json.h"

namespace rtsptest::testing {

struct BenchRun {
  int exit_code = -1;
  std::string err;         // progress lines, warnings, the summary
  bool report_ok = false;  // the report file parsed as JSON
  common::Json report;
  std::vector<std::string> csv_lines;  // header first
};

// The built rtsp_bench in the test's runfiles.
std::string BenchPath();

// Runs rtsp_bench with `args` plus --json_out and --csv_out files named after
// `name` under $TEST_TMPDIR, and waits for it (its --duration bounds it).
BenchRun RunBench(const std::vector<std::string>& args, const std::string& name);

// The JSON paths every report has ("totals.packets"); docs/bench.md
// documents each.
const std::vector<std::string>& DocumentedReportFields();

// The value at a dotted `path`, or null.
common::Json At(const common::Json& json, const std::string& path);

}  // namespace rtsptest::testing

#endif  // RTSPTEST_TESTS_TOOLS_RTSP_BENCH_BENCH_RUNNER_H_
