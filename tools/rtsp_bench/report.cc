// rtsp_bench's JSON report and CSV (see report.h).
#include "tools/rtsp_bench/report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "common/version/version.h"

namespace rtsptest::tools::bench {
namespace {

using common::Json;

double Round(double value, int decimals = 3) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

Json Distribution(std::vector<double> values) {
  Json out = Json::object();
  out["count"] = values.size();
  out["p50"] = Round(Percentile(&values, 50));
  out["p90"] = Round(Percentile(&values, 90));
  out["p99"] = Round(Percentile(&values, 99));
  out["max"] = Round(values.empty() ? 0 : values.back());
  return out;
}

std::vector<const ReaderResult*> AllReaders(const std::vector<LoopResult>& loops) {
  std::vector<const ReaderResult*> readers;
  for (const LoopResult& loop : loops) {
    for (const ReaderResult& r : loop.readers) readers.push_back(&r);
  }
  std::sort(readers.begin(), readers.end(),
            [](const ReaderResult* a, const ReaderResult* b) { return a->id < b->id; });
  return readers;
}

double CpuSeconds(const RunInfo& run) { return run.cpu_user_seconds + run.cpu_system_seconds; }

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

std::string Number(double value) { return value < 0 ? "" : absl::StrFormat("%.3f", value); }

}  // namespace

double Percentile(std::vector<double>* values, double p) {
  if (values->empty()) return 0;
  std::sort(values->begin(), values->end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(values->size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return (*values)[std::min(index, values->size() - 1)];
}

std::vector<std::string> Warnings(const BenchConfig& config, const std::vector<LoopResult>& loops,
                                  const RunInfo& run) {
  std::vector<std::string> warnings;
  const int threads = std::max(1, config.threads);
  const double share = run.wall_seconds > 0 ? CpuSeconds(run) / run.wall_seconds / threads : 0;
  double busiest = 0;
  for (const LoopResult& loop : loops) {
    if (loop.wall_seconds > 0) busiest = std::max(busiest, loop.cpu_seconds / loop.wall_seconds);
  }
  // Start-up alone (resolving, spawning threads) would read as a busy core
  // over a run too short to measure.
  if (run.wall_seconds < 1) return warnings;
  if (share > kBottleneckCpuShare || busiest > kBottleneckCpuShare) {
    warnings.push_back(absl::StrFormat(
        "rtsp_bench used %.0f%% of a core per loop thread (busiest loop %.0f%%): it may be the "
        "bottleneck, so late packets and low media rates may be its own; use more --threads or "
        "another machine",
        share * 100, busiest * 100));
  }
  return warnings;
}

Json BuildReport(const BenchConfig& config, const std::vector<LoopResult>& loops,
                 const RunInfo& run, const std::vector<std::string>& warnings) {
  Json report = Json::object();
  report["tool"] = "rtsp_bench";
  report["version"] = common::kVersion;

  Json cfg = Json::object();
  Json urls = Json::array();
  for (const Target& target : config.targets) urls.push_back(target.url.url);
  cfg["urls"] = urls;
  cfg["readers"] = config.readers;
  cfg["ramp_per_second"] = config.ramp;
  cfg["duration_seconds"] = absl::ToDoubleSeconds(config.duration);
  cfg["transport"] = config.transport == TransportMode::kTcp ? "tcp" : "udp";
  cfg["churn"] = config.churn;
  cfg["churn_reset"] = config.churn_reset;
  cfg["churn_hold_seconds"] = absl::ToDoubleSeconds(config.churn_hold);
  cfg["churn_every_seconds"] = absl::ToDoubleSeconds(config.churn_every);
  cfg["timeout_seconds"] = absl::ToDoubleSeconds(config.timeout);
  cfg["options"] = config.options;
  cfg["keepalive"] = config.keepalive_options ? "options" : "get_parameter";
  cfg["teardown"] = config.teardown;
  cfg["threads"] = config.threads;
  cfg["seed"] = config.seed;
  report["config"] = cfg;

  Json run_json = Json::object();
  run_json["started_at"] = run.started_at;
  run_json["wall_seconds"] = Round(run.wall_seconds);
  run_json["ramp_seconds"] = Round(run.ramp_seconds);
  run_json["interrupted"] = run.interrupted;
  report["run"] = run_json;

  const std::vector<const ReaderResult*> readers = AllReaders(loops);
  int64_t attempts = 0, connected = 0, played = 0, playing = 0, failed = 0, packets = 0, bytes = 0,
          lost = 0, gap_events = 0, late = 0, duplicates = 0, resyncs = 0, readers_connected = 0,
          readers_played = 0, with_gaps = 0;
  std::vector<double> longest_gaps, rates;
  for (const ReaderResult* r : readers) {
    attempts += r->attempts;
    connected += r->connects;
    played += r->plays;
    if (r->connects > 0) ++readers_connected;
    if (r->plays > 0) ++readers_played;
    if (r->state == "playing") ++playing;
    if (r->state == "failed") ++failed;
    packets += r->packets;
    bytes += r->bytes;
    lost += r->lost;
    gap_events += r->gap_events;
    late += r->late;
    duplicates += r->duplicates;
    resyncs += r->resyncs;
    if (r->lost > 0) ++with_gaps;
    if (r->longest_gap_ms >= 0) longest_gaps.push_back(r->longest_gap_ms);
    if (r->media_rate > 0) rates.push_back(r->media_rate);
  }
  Json totals = Json::object();
  totals["readers"] = readers.size();
  totals["readers_connected"] = readers_connected;
  totals["readers_played"] = readers_played;
  totals["playing_at_end"] = playing;
  totals["failed"] = failed;
  totals["attempts"] = attempts;
  totals["connects"] = connected;
  totals["plays"] = played;
  totals["packets"] = packets;
  totals["bytes"] = bytes;
  totals["mbit_per_second"] =
      Round(run.wall_seconds > 0 ? static_cast<double>(bytes) * 8 / run.wall_seconds / 1e6 : 0);
  report["totals"] = totals;

  Json gaps = Json::object();
  gaps["lost_packets"] = lost;
  gaps["gap_events"] = gap_events;
  gaps["late_packets"] = late;
  gaps["duplicate_packets"] = duplicates;
  gaps["resyncs"] = resyncs;
  gaps["readers_with_loss"] = with_gaps;
  gaps["loss_ratio"] =
      packets + lost > 0 ? Round(static_cast<double>(lost) / static_cast<double>(packets + lost), 6)
                         : 0.0;
  report["sequence"] = gaps;

  std::vector<double> connect_ms, describe_ms, play_ms, first_packet_ms;
  for (const LoopResult& loop : loops) {
    connect_ms.insert(connect_ms.end(), loop.connect_ms.begin(), loop.connect_ms.end());
    describe_ms.insert(describe_ms.end(), loop.describe_ms.begin(), loop.describe_ms.end());
    play_ms.insert(play_ms.end(), loop.play_ms.begin(), loop.play_ms.end());
    first_packet_ms.insert(first_packet_ms.end(), loop.first_packet_ms.begin(),
                           loop.first_packet_ms.end());
  }
  Json latency = Json::object();
  latency["connect"] = Distribution(connect_ms);
  latency["describe"] = Distribution(describe_ms);
  latency["play"] = Distribution(play_ms);
  latency["first_packet"] = Distribution(first_packet_ms);
  report["latency_ms"] = latency;
  report["longest_gap_ms"] = Distribution(longest_gaps);

  Json media = Json::object();
  media["count"] = rates.size();
  std::vector<double> sorted = rates;
  media["min"] = Round(sorted.empty() ? 0 : *std::min_element(sorted.begin(), sorted.end()), 4);
  media["p1"] = Round(Percentile(&sorted, 1), 4);
  media["p50"] = Round(Percentile(&sorted, 50), 4);
  media["max"] = Round(sorted.empty() ? 0 : sorted.back(), 4);
  media["readers_outside_5_percent"] =
      std::count_if(rates.begin(), rates.end(), [](double r) { return std::fabs(r - 1) > 0.05; });
  report["media_rate"] = media;

  std::map<std::string, FailureStat> failures;
  std::map<std::string, int64_t> churn;
  int64_t resets = 0;
  for (const LoopResult& loop : loops) {
    for (const auto& [stage, stat] : loop.failures) {
      FailureStat& total = failures[stage];
      if (total.count == 0) total.sample_error = stat.sample_error;
      total.count += stat.count;
    }
    for (const auto& [stage, count] : loop.churn_drops) churn[stage] += count;
    resets += loop.churn_resets;
  }
  Json failure_json = Json::object();
  int64_t failure_total = 0;
  Json by_stage = Json::object();
  for (const auto& [stage, stat] : failures) {
    failure_total += stat.count;
    by_stage[stage] = Json{{"count", stat.count}, {"sample_error", stat.sample_error}};
  }
  failure_json["total"] = failure_total;
  failure_json["by_stage"] = by_stage;
  report["failures"] = failure_json;

  Json churn_json = Json::object();
  int64_t drops = 0;
  Json churn_stages = Json::object();
  for (const auto& [stage, count] : churn) {
    drops += count;
    churn_stages[stage] = count;
  }
  churn_json["drops"] = drops;
  churn_json["resets"] = resets;
  churn_json["by_stage"] = churn_stages;
  report["churn"] = churn_json;

  Json cpu = Json::object();
  cpu["user_seconds"] = Round(run.cpu_user_seconds);
  cpu["system_seconds"] = Round(run.cpu_system_seconds);
  cpu["percent_of_one_core"] =
      Round(run.wall_seconds > 0 ? CpuSeconds(run) / run.wall_seconds * 100 : 0, 1);
  Json per_loop = Json::array();
  for (const LoopResult& loop : loops) {
    per_loop.push_back(
        Round(loop.wall_seconds > 0 ? loop.cpu_seconds / loop.wall_seconds * 100 : 0, 1));
  }
  cpu["loop_threads_percent"] = per_loop;
  cpu["max_rss_kb"] = run.max_rss_kb;
  cpu["fd_limit"] = run.fd_limit;
  report["bench"] = cpu;

  Json warning_json = Json::array();
  for (const std::string& w : warnings) warning_json.push_back(w);
  report["warnings"] = warning_json;
  return report;
}

std::string BuildCsv(const std::vector<LoopResult>& loops) {
  std::string csv =
      "id,url,state,attempts,connects,plays,churn_drops,failure_stage,error,connect_ms,"
      "describe_ms,play_ms,first_packet_ms,packets,bytes,lost_packets,gap_events,late_packets,"
      "duplicate_packets,longest_gap_ms,media_rate\n";
  for (const ReaderResult* r : AllReaders(loops)) {
    absl::StrAppend(&csv, r->id, ",", CsvField(r->url), ",", r->state, ",", r->attempts, ",",
                    r->connects, ",", r->plays, ",", r->churn_drops, ",", r->failure_stage, ",",
                    CsvField(r->error), ",", Number(r->connect_ms), ",", Number(r->describe_ms),
                    ",", Number(r->play_ms), ",", Number(r->first_packet_ms), ",", r->packets, ",",
                    r->bytes, ",", r->lost, ",", r->gap_events, ",", r->late, ",", r->duplicates,
                    ",", Number(r->longest_gap_ms), ",",
                    r->media_rate > 0 ? absl::StrFormat("%.4f", r->media_rate) : "", "\n");
  }
  return csv;
}

}  // namespace rtsptest::tools::bench
