// rtsp_bench: an RTSP load generator for any RTSP server (rtsp-test-server,
// mediamtx, a camera). Many readers on one epoll loop per thread; a live
// progress line; a JSON report and an optional CSV per reader. See --help
// and docs/bench.md.
#include <netdb.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/flags/go_flags.h"
#include "common/version/version.h"
#include "tools/rtsp_bench/reader_loop.h"
#include "tools/rtsp_bench/report.h"

namespace rtsptest::tools::bench {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitNothingConnected = 1;
constexpr int kExitUsage = 2;

constexpr char kUsage[] = R"(Usage: rtsp_bench --url=rtsp://host:port/path [flags]

Opens many RTSP readers against any RTSP server, keeps them playing, and
reports what each saw: connect, DESCRIBE, PLAY and first-packet latency,
packets, RTP sequence gaps (lost, late and duplicate packets apart), the
longest silence, and the media rate (RTP time over wall time, 1.0 = real
time). One process, one epoll loop per --threads, no thread per reader.

Flags (one or two dashes; --flag=value or --flag value; durations 10s, 1m30s):
  --url URL            rtsp://[user:password@]host[:port]/path; repeatable or a
                       comma list; reader i reads url i mod n (required). The
                       credentials answer a 401 (Basic or Digest MD5)
  --readers N          readers to open (default 1)
  --ramp R             readers started per second (default 100; 0 = all at once)
  --duration D         how long to play after the last reader started (default 10s)
  --transport T        tcp (RTP interleaved on the RTSP connection, default) or
                       udp (a bound RTP/RTCP socket pair per track)
  --churn F            this fraction (0..1) of connection attempts drops at a
                       random stage (after connect, after sending OPTIONS,
                       DESCRIBE, SETUP or PLAY, or while playing) and reconnects
                       within 100 ms (default 0)
  --churn_reset F      the fraction of those drops that reset (RST, SO_LINGER 0)
                       instead of closing (default 0.5)
  --churn_hold D       a drop while playing comes within this time of PLAY (default 2s)
  --churn_every D      every attempt that --churn spared drops while playing too,
                       on average D after PLAY (uniform over 2D), so the churn
                       lasts the whole run (default 0: off)
  --timeout D          limit on connect, each reply and the first packet (default 10s)
  --options            send OPTIONS before DESCRIBE (default true; --options=false)
  --keepalive K        get_parameter (default) or options, sent every Session
                       timeout / 2 (60 s when the server names none)
  --teardown           send TEARDOWN at the end (default true)
  --udp_bind ADDR      address of the UDP sockets (default any)
  --threads N          event loop threads (default 1); readers spread over them
  --max_fds N          open files limit to use (default 0: raise to the hard limit)
  --seed N             seed of the churn's choices (default 1)
  --json_out PATH      write the JSON report here (default: stdout)
  --csv_out PATH       write one CSV row per reader here
  --quiet              no progress and no summary on stderr
  --version            print the version and exit
  -h, --help           this help

Progress: on a terminal one line, updated every second, on stderr:
  connecting / playing / failed readers, churn drops, Mbit/s, the bench's CPU.
  Not on a terminal: one plain line a second (unless --quiet).

Exit codes:
  0  the run completed (even if readers failed: the report says which and why)
  1  no reader could connect at all
  2  usage error (bad flag, bad URL, too few file descriptors)

Examples:
  rtsp_bench --url=rtsp://127.0.0.1:8554/cam1 --readers=100 --duration=30s
  rtsp_bench --url=rtsp://127.0.0.1:8554/cam1 --readers=5000 --ramp=200 \
             --threads=2 --json_out=report.json --csv_out=readers.csv
  rtsp_bench --url=rtsp://10.0.0.7:554/stream1 --transport=udp --readers=4
  rtsp_bench --url=rtsp://127.0.0.1:8554/cam1 --readers=200 --churn=0.5 --duration=1m
)";

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

absl::Status Usage(const std::string& message) { return absl::InvalidArgumentError(message); }

absl::Status ParseFraction(const std::string& name, const std::string& text, double* out) {
  if (!absl::SimpleAtod(text, out) || *out < 0 || *out > 1) {
    return Usage(absl::StrCat("--", name, "=", text, ": must be a number from 0 to 1"));
  }
  return absl::OkStatus();
}

absl::Status Resolve(const std::string& text, Target* target) {
  absl::StatusOr<RtspUrl> url = ParseRtspUrl(text);
  if (!url.ok()) return url.status();
  target->url = *url;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int error =
      getaddrinfo(url->host.c_str(), std::to_string(url->port).c_str(), &hints, &found);
  if (error != 0 || found == nullptr) {
    return Usage(
        absl::StrCat("url ", text, ": cannot resolve ", url->host, ": ", gai_strerror(error)));
  }
  std::memcpy(&target->address, found->ai_addr, found->ai_addrlen);
  target->address_length = found->ai_addrlen;
  freeaddrinfo(found);
  return absl::OkStatus();
}

// Raises the open files limit (to `wanted`, or the hard limit when 0) and
// checks it holds `needed` descriptors.
absl::StatusOr<int64_t> SetFdLimit(int64_t wanted, int64_t needed) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  const rlim_t target = wanted > 0 ? static_cast<rlim_t>(wanted) : limit.rlim_max;
  if (limit.rlim_max != RLIM_INFINITY && target > limit.rlim_max) {
    return Usage(absl::StrCat("--max_fds=", wanted, " is above the hard limit ", limit.rlim_max));
  }
  limit.rlim_cur = target;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) getrlimit(RLIMIT_NOFILE, &limit);
  const int64_t have = static_cast<int64_t>(limit.rlim_cur);
  if (have < needed) {
    return Usage(absl::StrCat("the readers need about ", needed,
                              " file descriptors but the limit is ", have, " (hard limit ",
                              static_cast<int64_t>(limit.rlim_max),
                              "); raise it (ulimit -n, LimitNOFILE=, docker --ulimit nofile=) or "
                              "use fewer --readers"));
  }
  return have;
}

struct Parsed {
  BenchConfig config;
  std::string json_out;
  std::string csv_out;
  bool quiet = false;
  int64_t max_fds = 0;
};

absl::Status ParseArgs(int argc, char** argv, Parsed* parsed, bool* help, bool* version) {
  common::GoFlags flags;
  std::vector<std::string> urls;
  std::string ramp = "100", churn = "0", churn_reset = "0.5", transport = "tcp",
              keepalive = "get_parameter";
  int readers = 1, threads = 1, max_fds = 0, seed = 1;
  BenchConfig& config = parsed->config;
  flags.AddStringList("url", &urls);
  flags.AddInt("readers", &readers);
  flags.AddString("ramp", &ramp);
  flags.AddDuration("duration", &config.duration);
  flags.AddString("transport", &transport);
  flags.AddString("churn", &churn);
  flags.AddString("churn_reset", &churn_reset);
  flags.AddDuration("churn_hold", &config.churn_hold);
  flags.AddDuration("churn_every", &config.churn_every);
  flags.AddDuration("timeout", &config.timeout);
  flags.AddBool("options", &config.options);
  flags.AddString("keepalive", &keepalive);
  flags.AddBool("teardown", &config.teardown);
  flags.AddString("udp_bind", &config.udp_bind);
  flags.AddInt("threads", &threads);
  flags.AddInt("max_fds", &max_fds);
  flags.AddInt("seed", &seed);
  flags.AddString("json_out", &parsed->json_out);
  flags.AddString("csv_out", &parsed->csv_out);
  flags.AddBool("quiet", &parsed->quiet);
  flags.AddBool("version", version);
  if (absl::Status s = flags.Parse(argc, argv); !s.ok()) return s;
  *help = flags.help_requested();
  if (*help || *version) return absl::OkStatus();
  std::vector<std::string> all_urls;
  for (const std::string& u : urls) {
    for (absl::string_view part : absl::StrSplit(u, ',', absl::SkipWhitespace())) {
      all_urls.emplace_back(part);
    }
  }
  if (all_urls.empty()) return Usage("--url is required");
  for (const std::string& u : all_urls) {
    Target target;
    if (absl::Status s = Resolve(u, &target); !s.ok()) return s;
    config.targets.push_back(target);
  }
  if (readers < 1) return Usage(absl::StrCat("--readers=", readers, ": must be at least 1"));
  config.readers = readers;
  if (threads < 1 || threads > 64)
    return Usage(absl::StrCat("--threads=", threads, ": must be 1..64"));
  config.threads = std::min(threads, readers);
  if (!absl::SimpleAtod(ramp, &config.ramp) || config.ramp < 0) {
    return Usage(absl::StrCat("--ramp=", ramp, ": must be a number of readers per second >= 0"));
  }
  if (config.duration <= absl::ZeroDuration()) return Usage("--duration must be positive");
  if (config.timeout <= absl::ZeroDuration()) return Usage("--timeout must be positive");
  if (transport == "tcp") {
    config.transport = TransportMode::kTcp;
  } else if (transport == "udp") {
    config.transport = TransportMode::kUdp;
  } else {
    return Usage(absl::StrCat("--transport=", transport, ": must be tcp or udp"));
  }
  if (keepalive != "get_parameter" && keepalive != "options") {
    return Usage(absl::StrCat("--keepalive=", keepalive, ": must be get_parameter or options"));
  }
  config.keepalive_options = keepalive == "options";
  if (absl::Status s = ParseFraction("churn", churn, &config.churn); !s.ok()) return s;
  if (absl::Status s = ParseFraction("churn_reset", churn_reset, &config.churn_reset); !s.ok()) {
    return s;
  }
  if (max_fds < 0) return Usage("--max_fds must not be negative");
  parsed->max_fds = max_fds;
  config.seed = static_cast<uint64_t>(seed);
  config.user_agent = absl::StrCat("rtsp_bench/", common::kVersion);
  return absl::OkStatus();
}

double Seconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

double CpuNow() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return Seconds(usage.ru_utime) + Seconds(usage.ru_stime);
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  return static_cast<bool>(file);
}

int Main(int argc, char** argv) {
  Parsed parsed;
  bool help = false, version = false;
  if (absl::Status s = ParseArgs(argc, argv, &parsed, &help, &version); !s.ok()) {
    std::cerr << "rtsp_bench: " << s.message() << "\nRun rtsp_bench --help for the flags.\n";
    return kExitUsage;
  }
  if (help) {
    std::cout << kUsage;
    return kExitOk;
  }
  if (version) {
    std::cout << "rtsp_bench " << common::kVersion << "\n";
    return kExitOk;
  }
  BenchConfig& config = parsed.config;
  // Per reader: the RTSP socket, and over UDP an RTP/RTCP pair per track
  // (one track assumed; a two-track stream needs 5 per reader).
  const int64_t per_reader = config.transport == TransportMode::kTcp ? 1 : 3;
  absl::StatusOr<int64_t> fd_limit =
      SetFdLimit(parsed.max_fds, int64_t{config.readers} * per_reader + 32);
  if (!fd_limit.ok()) {
    std::cerr << "rtsp_bench: " << fd_limit.status().message() << "\n";
    return kExitUsage;
  }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  RunInfo run;
  run.fd_limit = *fd_limit;
  run.started_at = absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone());
  run.ramp_seconds = config.ramp > 0 ? (config.readers - 1) / config.ramp : 0;
  const int64_t start_us = SteadyNowUs();
  const int64_t end_us = start_us + static_cast<int64_t>(run.ramp_seconds * 1e6) +
                         absl::ToInt64Microseconds(config.duration);
  LiveCounters live;
  std::vector<LoopResult> results(static_cast<size_t>(config.threads));
  std::vector<std::thread> threads;
  for (int t = 0; t < config.threads; ++t) {
    threads.emplace_back([&, t] {
      results[static_cast<size_t>(t)] = RunLoop(config, t, start_us, end_us, &live, &g_stop);
    });
  }

  const bool tty = isatty(STDERR_FILENO) == 1;
  const double cpu_start = CpuNow();
  double last_cpu = cpu_start;
  int64_t last_us = start_us, last_bytes = 0;
  int64_t next_line = start_us + 1'000'000;
  while (SteadyNowUs() < end_us && !g_stop.load()) {
    absl::SleepFor(absl::Milliseconds(50));
    const int64_t now = SteadyNowUs();
    if (now < next_line || parsed.quiet) continue;
    next_line += 1'000'000;
    const double cpu = CpuNow();
    const int64_t bytes = live.bytes.load();
    const double wall = static_cast<double>(now - last_us) / 1e6;
    const std::string line = absl::StrFormat(
        "[%5.0fs] started %d/%d  connecting %d  playing %d  failed %d  churned %d  %.2f Mbit/s  "
        "cpu %.0f%%",
        static_cast<double>(now - start_us) / 1e6, live.started.load(), config.readers,
        live.connecting.load(), live.playing.load(), live.failed.load(), live.churn_drops.load(),
        static_cast<double>(bytes - last_bytes) * 8 / wall / 1e6, (cpu - last_cpu) / wall * 100);
    if (tty) {
      std::cerr << "\r" << line << "\033[K" << std::flush;
    } else {
      std::cerr << line << "\n";
    }
    last_cpu = cpu;
    last_us = now;
    last_bytes = bytes;
  }
  for (std::thread& thread : threads) thread.join();
  if (tty && !parsed.quiet) std::cerr << "\n";
  run.interrupted = g_stop.load();
  run.wall_seconds = static_cast<double>(SteadyNowUs() - start_us) / 1e6;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  run.cpu_user_seconds = Seconds(usage.ru_utime);
  run.cpu_system_seconds = Seconds(usage.ru_stime);
  run.max_rss_kb = usage.ru_maxrss;

  const std::vector<std::string> warnings = Warnings(config, results, run);
  for (const std::string& w : warnings) std::cerr << "rtsp_bench: warning: " << w << "\n";
  const common::Json report = BuildReport(config, results, run, warnings);
  const std::string text = report.dump(2) + "\n";
  if (parsed.json_out.empty() || parsed.json_out == "-") {
    std::cout << text;
  } else if (!WriteFile(parsed.json_out, text)) {
    std::cerr << "rtsp_bench: cannot write " << parsed.json_out << "\n";
  }
  if (!parsed.csv_out.empty() && !WriteFile(parsed.csv_out, BuildCsv(results))) {
    std::cerr << "rtsp_bench: cannot write " << parsed.csv_out << "\n";
  }
  const auto& totals = report["totals"];
  const auto& sequence = report["sequence"];
  if (!parsed.quiet) {
    std::cerr << absl::StrFormat(
        "rtsp_bench: %d readers: %d connected, %d played, %d playing at the end, %d failed; "
        "%d packets, %d lost, %d late, %d duplicate; media rate p50 %.3f\n",
        totals["readers"].get<int64_t>(), totals["readers_connected"].get<int64_t>(),
        totals["readers_played"].get<int64_t>(), totals["playing_at_end"].get<int64_t>(),
        totals["failed"].get<int64_t>(), totals["packets"].get<int64_t>(),
        sequence["lost_packets"].get<int64_t>(), sequence["late_packets"].get<int64_t>(),
        sequence["duplicate_packets"].get<int64_t>(), report["media_rate"]["p50"].get<double>());
  }
  return totals["connects"].get<int64_t>() == 0 ? kExitNothingConnected : kExitOk;
}

}  // namespace
}  // namespace rtsptest::tools::bench

int main(int argc, char** argv) { return rtsptest::tools::bench::Main(argc, argv); }
