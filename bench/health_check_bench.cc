// health_check_bench: grpc.health.v1 Check("") on the real rtsp_test_server
// against a plain grpc++ server whose default health service holds a fixed
// SERVING (bench/baseline_health_server), in one run on one machine.
//
// Both servers are separate processes on loopback, started by this program:
//   ours      rtsp_test_server, 4 listeners on 127.0.0.1 (ephemeral ports),
//             one cheap stream, control plane on 127.0.0.1 (ephemeral), the
//             health monitor probing every 2 s as in production;
//   baseline  baseline_health_server (same gRPC library and build flags).
// Phases, each alternating between the two so that both see the same
// machine state (the order flips every block/round):
//   latency     one channel per server, sequential unary Check, after a
//               warm-up; blocks of --block calls, A B B A A B ..., until
//               each has --latency_calls or --latency_budget has passed;
//   throughput  --callers threads over --channels channels (separate TCP
//               connections) for --round_time, --rounds rounds per server.
// Prints a Markdown table and the ratios against the goals of issue 3
// (throughput ours/baseline >= 0.9, p99 < 1 ms). Everything is bounded: a
// hard --deadline (SIGALRM) ends the run, and both servers die with it
// (PR_SET_PDEATHSIG). Not a test: run bench/run_health_bench.sh.
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/util/child_process.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

ABSL_FLAG(std::string, server, "", "rtsp_test_server binary (default: from runfiles).");
ABSL_FLAG(std::string, baseline, "", "baseline_health_server binary (default: from runfiles).");
ABSL_FLAG(int, warmup_calls, 1000, "Unary calls per server before the latency phase.");
ABSL_FLAG(int, latency_calls, 20000, "Sequential calls measured per server.");
ABSL_FLAG(absl::Duration, latency_budget, absl::Seconds(10),
          "Time cap of the latency phase per server (both together: twice this).");
ABSL_FLAG(int, block, 500, "Calls per alternating latency block.");
ABSL_FLAG(int, callers, 16, "Concurrent callers (threads) in the throughput phase.");
ABSL_FLAG(int, channels, 4, "Channels (TCP connections) the callers share, per server.");
ABSL_FLAG(int, rounds, 8, "Throughput rounds per server, alternating.");
ABSL_FLAG(absl::Duration, round_time, absl::Seconds(1), "Length of one throughput round.");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(150), "Hard cap on the whole run.");

namespace rtsptest::bench {
namespace {

using Clock = std::chrono::steady_clock;
using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

struct Target {
  std::string name;
  int port = 0;
  Child* process = nullptr;
  // Latency phase.
  std::unique_ptr<Health::Stub> stub;
  std::vector<double> latencies_us;
  int latency_errors = 0;
  // Throughput phase.
  std::vector<std::unique_ptr<Health::Stub>> stubs;
  int64_t calls = 0;
  int64_t throughput_errors = 0;
  double seconds = 0;
  std::vector<double> round_qps;
  absl::Duration server_cpu;
};

std::shared_ptr<grpc::Channel> NewChannel(int port, int index) {
  grpc::ChannelArguments args;
  // Own connection per channel: gRPC otherwise shares subchannels between
  // channels with the same target and arguments.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("rtsptest.bench.channel", index);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

// One Check(""); true when OK and SERVING.
bool Check(Health::Stub& stub) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  HealthCheckRequest request;
  HealthCheckResponse response;
  grpc::Status status = stub.Check(&context, request, &response);
  return status.ok() && response.status() == HealthCheckResponse::SERVING;
}

bool AwaitServing(Health::Stub& stub, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (Check(stub)) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

void LatencyBlock(Target& t, int calls) {
  for (int i = 0; i < calls; ++i) {
    auto start = Clock::now();
    bool ok = Check(*t.stub);
    auto end = Clock::now();
    if (!ok) ++t.latency_errors;
    t.latencies_us.push_back(std::chrono::duration<double, std::micro>(end - start).count());
  }
}

void ThroughputRound(Target& t, int callers, absl::Duration length) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> calls{0}, errors{0};
  std::vector<std::thread> threads;
  absl::Duration cpu_before = t.process->CpuTime();
  auto start = Clock::now();
  for (int i = 0; i < callers; ++i) {
    threads.emplace_back([&, i] {
      Health::Stub& stub = *t.stubs[static_cast<size_t>(i) % t.stubs.size()];
      int64_t mine = 0, bad = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (Check(stub)) {
          ++mine;
        } else {
          ++bad;
        }
      }
      calls += mine;
      errors += bad;
    });
  }
  absl::SleepFor(length);
  stop = true;
  for (std::thread& thread : threads) thread.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  t.server_cpu += t.process->CpuTime() - cpu_before;
  t.calls += calls;
  t.throughput_errors += errors;
  t.seconds += seconds;
  t.round_qps.push_back(static_cast<double>(calls) / seconds);
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return NAN;
  size_t index = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size()))) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return absl::StrCat(a, " ", b, " ", c);
}

std::string WriteConfig() {
  char dir[] = "/tmp/health_check_bench.XXXXXX";
  if (mkdtemp(dir) == nullptr) return "";
  std::string path = absl::StrCat(dir, "/bench.yaml");
  std::ofstream(path) << R"(# health_check_bench: 4 loopback listeners, one cheap stream.
listeners:
  - {name: rtsp-a, bind_address: 127.0.0.1, port: 0}
  - {name: rtsp-b, bind_address: 127.0.0.1, port: 0}
  - {name: rtsp-c, bind_address: 127.0.0.1, port: 0}
  - {name: rtsp-d, bind_address: 127.0.0.1, port: 0}
streams:
  - path: /bench
    plugin: testpattern
    parameters: {width: 160, height: 120, fps: 5, codec: mjpeg, audio: none}
control: {bind_address: 127.0.0.1, port: 0}
)";
  return path;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Check latency and throughput: rtsp_test_server against a plain grpc++ health server.");
  absl::ParseCommandLine(argc, argv);
  alarm(static_cast<unsigned>(absl::ToInt64Seconds(absl::GetFlag(FLAGS_deadline))));
  signal(SIGPIPE, SIG_IGN);

  std::string server_bin = absl::GetFlag(FLAGS_server);
  if (server_bin.empty()) server_bin = Runfile("app/rtsp_test_server");
  std::string baseline_bin = absl::GetFlag(FLAGS_baseline);
  if (baseline_bin.empty()) baseline_bin = Runfile("bench/baseline_health_server");
  const std::string config = WriteConfig();

  Child ours_process, baseline_process;
  if (!ours_process.Start({server_bin, "--config=" + config, "--drain_timeout=0"})) {
    std::fprintf(stderr, "cannot start %s\n", server_bin.c_str());
    return 1;
  }
  std::optional<std::string> control =
      ours_process.WaitForLine("control plane serving", absl::Seconds(30));
  if (!control || !ours_process.WaitForLine("\"msg\":\"server started\"", absl::Seconds(30))) {
    std::fprintf(stderr, "rtsp_test_server did not start:\n");
    for (const std::string& line : ours_process.Lines())
      std::fprintf(stderr, "  %s\n", line.c_str());
    return 1;
  }
  if (!baseline_process.Start({baseline_bin})) {
    std::fprintf(stderr, "cannot start %s\n", baseline_bin.c_str());
    return 1;
  }
  std::optional<std::string> listening =
      baseline_process.WaitForLine("listening port=", absl::Seconds(10));
  if (!listening) {
    std::fprintf(stderr, "baseline_health_server did not start\n");
    return 1;
  }

  Target ours, baseline;
  ours.name = "rtsp_test_server";
  ours.process = &ours_process;
  absl::SimpleAtoi(JsonField(*control, "grpc_port"), &ours.port);
  baseline.name = "baseline";
  baseline.process = &baseline_process;
  absl::SimpleAtoi(listening->substr(listening->find("port=") + 5), &baseline.port);
  Target* targets[2] = {&ours, &baseline};

  const int channels = std::max(1, absl::GetFlag(FLAGS_channels));
  for (Target* t : targets) {
    t->stub = Health::NewStub(NewChannel(t->port, 0));
    for (int i = 0; i < channels; ++i)
      t->stubs.push_back(Health::NewStub(NewChannel(t->port, i + 1)));
    // Ours says NOT_SERVING until its first probe round has completed.
    if (!AwaitServing(*t->stub, absl::Seconds(15))) {
      std::fprintf(stderr, "%s (port %d) never answered SERVING\n", t->name.c_str(), t->port);
      return 1;
    }
  }
  const std::string load_before = LoadAverage();

  // Latency: warm-up, then alternating blocks.
  for (Target* t : targets) {
    LatencyBlock(*t, absl::GetFlag(FLAGS_warmup_calls));
    t->latencies_us.clear();
    t->latency_errors = 0;
  }
  const size_t wanted = static_cast<size_t>(absl::GetFlag(FLAGS_latency_calls));
  const int block = std::max(1, absl::GetFlag(FLAGS_block));
  const absl::Time latency_end = absl::Now() + 2 * absl::GetFlag(FLAGS_latency_budget);
  for (int round = 0;
       (ours.latencies_us.size() < wanted || baseline.latencies_us.size() < wanted) &&
       absl::Now() < latency_end;
       ++round) {
    Target* first = targets[round % 2];
    Target* second = targets[1 - round % 2];
    for (Target* t : {first, second}) {
      size_t left = wanted - std::min(wanted, t->latencies_us.size());
      LatencyBlock(*t, static_cast<int>(std::min<size_t>(left, static_cast<size_t>(block))));
    }
  }

  // Throughput: warm every connection, then alternating rounds.
  for (Target* t : targets) {
    for (auto& stub : t->stubs) Check(*stub);
  }
  const int callers = std::max(1, absl::GetFlag(FLAGS_callers));
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    ThroughputRound(*targets[round % 2], callers, absl::GetFlag(FLAGS_round_time));
    ThroughputRound(*targets[1 - round % 2], callers, absl::GetFlag(FLAGS_round_time));
  }
  const std::string load_after = LoadAverage();

  // Report.
  struct Stats {
    double p50, p90, p99, max, mean, qps, cpu_us_per_call;
    std::string rounds;
  };
  auto stats = [](Target& t) {
    std::vector<double> v = t.latencies_us;
    std::sort(v.begin(), v.end());
    Stats s{};
    s.p50 = Percentile(v, 0.50);
    s.p90 = Percentile(v, 0.90);
    s.p99 = Percentile(v, 0.99);
    s.max = v.empty() ? NAN : v.back();
    double sum = 0;
    for (double x : v) sum += x;
    s.mean = v.empty() ? NAN : sum / static_cast<double>(v.size());
    s.qps = t.seconds > 0 ? static_cast<double>(t.calls) / t.seconds : 0;
    s.cpu_us_per_call =
        t.calls > 0 ? absl::ToDoubleMicroseconds(t.server_cpu) / static_cast<double>(t.calls) : NAN;
    for (double q : t.round_qps)
      absl::StrAppend(&s.rounds, s.rounds.empty() ? "" : " / ", absl::StrFormat("%.0f", q));
    return s;
  };
  const Stats a = stats(ours), b = stats(baseline);
  std::printf("health_check_bench: grpc.health.v1 Check(\"\") on 127.0.0.1\n");
  std::printf(
      "  rtsp_test_server grpc port %d (4 listeners, 1 stream, monitor every 2 s); "
      "baseline_health_server port %d\n",
      ours.port, baseline.port);
  std::printf("  nproc %u, load average before %s, after %s\n\n",
              std::thread::hardware_concurrency(), load_before.c_str(), load_after.c_str());
  std::printf("| metric | rtsp_test_server | baseline | ours / baseline |\n");
  std::printf("|---|---:|---:|---:|\n");
  std::printf("| latency calls (errors) | %zu (%d) | %zu (%d) | |\n", ours.latencies_us.size(),
              ours.latency_errors, baseline.latencies_us.size(), baseline.latency_errors);
  auto row = [](const char* name, double x, double y) {
    std::printf("| %s | %.0f | %.0f | %.2f |\n", name, x, y, x / y);
  };
  row("Check p50 (µs)", a.p50, b.p50);
  row("Check p90 (µs)", a.p90, b.p90);
  row("Check p99 (µs)", a.p99, b.p99);
  row("Check max (µs)", a.max, b.max);
  row("Check mean (µs)", a.mean, b.mean);
  std::printf("| throughput, %d callers / %d channels (Check/s) | %.0f | %.0f | %.2f |\n", callers,
              channels, a.qps, b.qps, a.qps / b.qps);
  std::printf("| throughput per round (Check/s) | %s | %s | |\n", a.rounds.c_str(),
              b.rounds.c_str());
  std::printf("| throughput calls (errors) | %lld (%lld) | %lld (%lld) | |\n",
              static_cast<long long>(ours.calls), static_cast<long long>(ours.throughput_errors),
              static_cast<long long>(baseline.calls),
              static_cast<long long>(baseline.throughput_errors));
  row("server CPU per Check, throughput phase (µs)", a.cpu_us_per_call, b.cpu_us_per_call);
  // Round r of each server ran back to back, so their ratio compares the
  // two under the same machine state; the median of those ratios resists a
  // burst of outside load that hits one round.
  std::vector<double> paired;
  for (size_t r = 0; r < std::min(ours.round_qps.size(), baseline.round_qps.size()); ++r) {
    paired.push_back(ours.round_qps[r] / baseline.round_qps[r]);
  }
  std::sort(paired.begin(), paired.end());
  const double paired_median =
      paired.empty() ? NAN : (paired[(paired.size() - 1) / 2] + paired[paired.size() / 2]) / 2;
  std::printf("| throughput ratio, median of %zu paired rounds | | | %.2f |\n", paired.size(),
              paired_median);
  const double ratio = a.qps / b.qps;
  std::printf("\nthroughput ratio ours/baseline = %.3f (goal >= 0.90): %s\n", ratio,
              ratio >= 0.9 ? "met" : "NOT met");
  std::printf("p99 ours = %.0f µs (goal < 1000 µs): %s\n", a.p99, a.p99 < 1000 ? "met" : "NOT met");
  const bool errors = ours.latency_errors + baseline.latency_errors + ours.throughput_errors +
                          baseline.throughput_errors >
                      0;
  if (errors)
    std::printf("WARNING: some Checks failed or were not SERVING (see the errors above)\n");
  std::fflush(stdout);

  ours_process.Stop();
  baseline_process.Stop();
  std::remove(config.c_str());
  rmdir(config.substr(0, config.rfind('/')).c_str());
  return errors ? 1 : 0;
}

}  // namespace
}  // namespace rtsptest::bench

int main(int argc, char** argv) { return rtsptest::bench::Main(argc, argv); }
