// rtsp_bench's report: percentiles, the bottleneck warning, totals folded
// from the loops, and the CSV.
#include "tools/rtsp_bench/report.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rtsptest::tools::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(PercentileTest, NearestRank) {
  std::vector<double> values = {5, 1, 4, 2, 3, 6, 7, 8, 9, 10};
  EXPECT_EQ(Percentile(&values, 50), 5);
  EXPECT_EQ(Percentile(&values, 90), 9);
  EXPECT_EQ(Percentile(&values, 99), 10);
  EXPECT_EQ(Percentile(&values, 1), 1);
  std::vector<double> empty;
  EXPECT_EQ(Percentile(&empty, 50), 0);
}

RunInfo RunOf(double wall, double cpu) {
  RunInfo run;
  run.wall_seconds = wall;
  run.cpu_user_seconds = cpu;
  return run;
}

TEST(WarningsTest, BusyLoopThreadWarns) {
  BenchConfig config;
  config.threads = 2;
  std::vector<LoopResult> loops(2);
  loops[0].wall_seconds = loops[1].wall_seconds = 10;
  loops[0].cpu_seconds = 9.5;  // 95 % of a core
  loops[1].cpu_seconds = 2;
  std::vector<std::string> warnings = Warnings(config, loops, RunOf(10, 11.5));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("busiest loop 95%"));
  EXPECT_THAT(warnings[0], HasSubstr("bottleneck"));
}

TEST(WarningsTest, ProcessAboveNinetyPercentPerThreadWarns) {
  BenchConfig config;
  std::vector<LoopResult> loops(1);
  EXPECT_EQ(Warnings(config, loops, RunOf(10, 9.2)).size(), 1u);
}

TEST(WarningsTest, ModerateOrTooShortRunsDoNot) {
  BenchConfig config;
  std::vector<LoopResult> loops(1);
  loops[0].wall_seconds = 10;
  loops[0].cpu_seconds = 8;
  EXPECT_THAT(Warnings(config, loops, RunOf(10, 8.5)), IsEmpty());
  EXPECT_THAT(Warnings(config, {}, RunOf(0.5, 0.5)), IsEmpty());
}

ReaderResult Reader(int id, const std::string& state, int64_t packets, int64_t lost) {
  ReaderResult r;
  r.id = id;
  r.url = "rtsp://h/x";
  r.state = state;
  r.attempts = r.connects = 1;
  r.plays = state == "playing" ? 1 : 0;
  r.packets = packets;
  r.lost = lost;
  r.media_rate = state == "playing" ? 1.0 : 0;
  return r;
}

TEST(BuildReportTest, FoldsLoopsAndCountsFailuresByStage) {
  BenchConfig config;
  config.readers = 3;
  config.threads = 2;
  std::vector<LoopResult> loops(2);
  loops[0].readers = {Reader(0, "playing", 100, 2), Reader(2, "failed", 0, 0)};
  loops[0].failures["describe"] = {1, "RTSP/1.0 404 Not Found"};
  loops[1].readers = {Reader(1, "playing", 98, 0)};
  loops[1].connect_ms = {1, 2};
  common::Json report = BuildReport(config, loops, RunOf(10, 1), {});
  EXPECT_EQ(report["totals"]["readers"], 3);
  EXPECT_EQ(report["totals"]["playing_at_end"], 2);
  EXPECT_EQ(report["totals"]["failed"], 1);
  EXPECT_EQ(report["totals"]["packets"], 198);
  EXPECT_EQ(report["sequence"]["lost_packets"], 2);
  EXPECT_EQ(report["sequence"]["readers_with_loss"], 1);
  EXPECT_EQ(report["sequence"]["loss_ratio"], 0.01);
  EXPECT_EQ(report["failures"]["total"], 1);
  EXPECT_EQ(report["failures"]["by_stage"]["describe"]["sample_error"], "RTSP/1.0 404 Not Found");
  EXPECT_EQ(report["latency_ms"]["connect"]["count"], 2);
  EXPECT_EQ(report["media_rate"]["count"], 2);
  EXPECT_EQ(report["media_rate"]["readers_outside_5_percent"], 0);
}

TEST(BuildCsvTest, OneRowPerReaderByIdWithQuotedErrors) {
  std::vector<LoopResult> loops(2);
  ReaderResult failed = Reader(0, "failed", 0, 0);
  failed.failure_stage = "describe";
  failed.error = "bad \"thing\", really";
  loops[1].readers = {failed};
  loops[0].readers = {Reader(1, "playing", 5, 0)};
  const std::string csv = BuildCsv(loops);
  EXPECT_THAT(csv,
              HasSubstr("\n0,rtsp://h/x,failed,1,1,0,0,describe,\"bad \"\"thing\"\", really\","));
  EXPECT_LT(csv.find("\n0,"), csv.find("\n1,"));
}

}  // namespace
}  // namespace rtsptest::tools::bench
