// The rtsp_bench smoke run of `make test`: ten TCP readers for three seconds
// against the real rtsp_test_server; the run completes, every reader plays
// in real time without loss, and the JSON report is well-formed with every
// documented field (and the CSV has a row per reader).
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/tools/rtsp_bench/bench_runner.h"

namespace rtsptest::testing {
namespace {

constexpr char kConfig[] = R"yaml(
listeners:
  - {name: lo, bind_address: 127.0.0.1, port: 0}
streams:
  - path: /a
    plugin: testpattern
    parameters: {codec: mjpeg, width: 160, height: 120, fps: 25, overlay: false}
drain_timeout: 0s
)yaml";

TEST(RtspBenchSmokeTest, TenReadersThreeSecondsWithACompleteReport) {
  ServerProcess server;
  ASSERT_TRUE(server.StartWithConfig(kConfig).ok()) << server.output();
  BenchRun run =
      RunBench({"--url=" + server.url("lo", "/a"), "--readers=10", "--duration=3s"}, "smoke");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_TRUE(run.report_ok) << run.err;
  const common::Json& r = run.report;
  for (const std::string& field : DocumentedReportFields()) {
    EXPECT_FALSE(At(r, field).is_null()) << "missing " << field;
  }
  EXPECT_EQ(At(r, "tool"), "rtsp_bench");
  EXPECT_EQ(At(r, "config.readers"), 10);
  EXPECT_EQ(At(r, "config.transport"), "tcp");
  EXPECT_EQ(At(r, "totals.readers_played"), 10);
  EXPECT_EQ(At(r, "totals.playing_at_end"), 10);
  EXPECT_EQ(At(r, "failures.total"), 0) << r.dump(2);
  EXPECT_GT(At(r, "totals.packets").get<int64_t>(), 10 * 25);
  EXPECT_EQ(At(r, "sequence.lost_packets"), 0);
  EXPECT_EQ(At(r, "latency_ms.first_packet.count"), 10);
  EXPECT_EQ(At(r, "media_rate.count"), 10);
  // Loose: a busy test machine shifts a three-second rate a little.
  EXPECT_GT(At(r, "media_rate.p50").get<double>(), 0.8);
  EXPECT_LT(At(r, "media_rate.p50").get<double>(), 1.2);
  EXPECT_TRUE(At(r, "warnings").is_array());
  EXPECT_TRUE(At(r, "bench.loop_threads_percent").is_array());
  ASSERT_EQ(run.csv_lines.size(), 11u);
  EXPECT_TRUE(absl::StartsWith(run.csv_lines[0], "id,url,state,")) << run.csv_lines[0];
  EXPECT_TRUE(
      absl::StartsWith(run.csv_lines[1], absl::StrCat("0,", server.url("lo", "/a"), ",playing,")))
      << run.csv_lines[1];
}

}  // namespace
}  // namespace rtsptest::testing
