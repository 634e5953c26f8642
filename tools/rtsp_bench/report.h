// rtsp_bench's results: the JSON report (config, totals, latency
// distributions, gaps, media rates, failures, churn, the bench's own CPU and
// its warnings) and the per-reader CSV. See docs/bench.md for every field.
#ifndef RTSPTEST_TOOLS_RTSP_BENCH_REPORT_H_
#define RTSPTEST_TOOLS_RTSP_BENCH_REPORT_H_

#include <string>
#include <vector>

#include "common/json/json.h"
#include "tools/rtsp_bench/reader_loop.h"

namespace rtsptest::tools::bench {

// What the run itself measured, beside the loops' results.
struct RunInfo {
  std::string started_at;  // RFC 3339, UTC
  double wall_seconds = 0;
  double ramp_seconds = 0;
  double cpu_user_seconds = 0;  // the whole process (getrusage RUSAGE_SELF)
  double cpu_system_seconds = 0;
  int64_t max_rss_kb = 0;
  int64_t fd_limit = 0;
  bool interrupted = false;  // SIGINT / SIGTERM ended the run early
};

// Above this share of one core per loop thread the bench may be the
// bottleneck: its own lag shows as the server's.
inline constexpr double kBottleneckCpuShare = 0.9;

// The warnings of a run (also in the report): the bench near a core's limit.
std::vector<std::string> Warnings(const BenchConfig& config, const std::vector<LoopResult>& loops,
                                  const RunInfo& run);

common::Json BuildReport(const BenchConfig& config, const std::vector<LoopResult>& loops,
                         const RunInfo& run, const std::vector<std::string>& warnings);

// One header line, then one line per reader, ordered by reader id.
std::string BuildCsv(const std::vector<LoopResult>& loops);

// Nearest-rank percentile (p in 0..100) of `values`, which it sorts; 0 when empty.
double Percentile(std::vector<double>* values, double p);

}  // namespace rtsptest::tools::bench

#endif  // RTSPTEST_TOOLS_RTSP_BENCH_REPORT_H_
