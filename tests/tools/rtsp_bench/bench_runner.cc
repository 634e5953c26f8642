// Runs rtsp_bench from tests (see bench_runner.h).
#include "tests/tools/rtsp_bench/bench_runner.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/util/subprocess.h"

namespace rtsptest::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string BenchPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir ? srcdir : ".", "/rtsp_test_server/tools/rtsp_bench/rtsp_bench");
}

BenchRun RunBench(const std::vector<std::string>& args, const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string base = absl::StrCat(tmp ? tmp : "/tmp", "/", name);
  const std::string binary = BenchPath();
  std::vector<std::string> all = args;
  all.push_back(absl::StrCat("--json_out=", base, ".json"));
  all.push_back(absl::StrCat("--csv_out=", base, ".csv"));
  std::remove((base + ".json").c_str());
  std::remove((base + ".csv").c_str());
  ProgramResult result = RunProgram(binary, all, name);
  BenchRun run;
  run.exit_code = result.exit_code;
  run.err = result.err;
  absl::StatusOr<common::Json> report = common::ParseJson(ReadFile(base + ".json"));
  if (report.ok()) {
    run.report_ok = true;
    run.report = *std::move(report);
  }
  for (absl::string_view line : absl::StrSplit(ReadFile(base + ".csv"), '\n', absl::SkipEmpty())) {
    run.csv_lines.emplace_back(line);
  }
  return run;
}

const std::vector<std::string>& DocumentedReportFields() {
  static const auto* fields = [] {
    auto* f = new std::vector<std::string>{"tool",
                                           "version",
                                           "config.urls",
                                           "config.readers",
                                           "config.ramp_per_second",
                                           "config.duration_seconds",
                                           "config.transport",
                                           "config.churn",
                                           "config.churn_reset",
                                           "config.churn_hold_seconds",
                                           "config.churn_every_seconds",
                                           "config.timeout_seconds",
                                           "config.options",
                                           "config.keepalive",
                                           "config.teardown",
                                           "config.threads",
                                           "config.seed",
                                           "run.started_at",
                                           "run.wall_seconds",
                                           "run.ramp_seconds",
                                           "run.interrupted",
                                           "totals.readers",
                                           "totals.readers_connected",
                                           "totals.readers_played",
                                           "totals.playing_at_end",
                                           "totals.failed",
                                           "totals.attempts",
                                           "totals.connects",
                                           "totals.plays",
                                           "totals.packets",
                                           "totals.bytes",
                                           "totals.mbit_per_second",
                                           "sequence.lost_packets",
                                           "sequence.gap_events",
                                           "sequence.late_packets",
                                           "sequence.duplicate_packets",
                                           "sequence.resyncs",
                                           "sequence.readers_with_loss",
                                           "sequence.loss_ratio",
                                           "media_rate.count",
                                           "media_rate.min",
                                           "media_rate.p1",
                                           "media_rate.p50",
                                           "media_rate.max",
                                           "media_rate.readers_outside_5_percent",
                                           "failures.total",
                                           "failures.by_stage",
                                           "churn.drops",
                                           "churn.resets",
                                           "churn.by_stage",
                                           "bench.user_seconds",
                                           "bench.system_seconds",
                                           "bench.percent_of_one_core",
                                           "bench.loop_threads_percent",
                                           "bench.max_rss_kb",
                                           "bench.fd_limit",
                                           "warnings"};
    for (const char* d : {"latency_ms.connect", "latency_ms.describe", "latency_ms.play",
                          "latency_ms.first_packet", "longest_gap_ms"}) {
      for (const char* s : {"count", "p50", "p90", "p99", "max"}) {
        f->push_back(absl::StrCat(d, ".", s));
      }
    }
    return f;
  }();
  return *fields;
}

common::Json At(const common::Json& json, const std::string& path) {
  const common::Json* at = &json;
  for (absl::string_view key : absl::StrSplit(path, '.')) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(std::string(key));
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return *at;
}

}  // namespace rtsptest::testing
