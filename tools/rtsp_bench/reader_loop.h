// The load itself: one epoll event loop that runs many RTSP readers, each a
// small state machine (connect -> OPTIONS -> DESCRIBE -> SETUP per track ->
// PLAY -> read media, with keepalives), on non-blocking sockets. rtsp_bench
// runs one loop per --threads; the loops share nothing but read-only config
// and a few counters the progress line reads.
#ifndef RTSPTEST_TOOLS_RTSP_BENCH_READER_LOOP_H_
#define RTSPTEST_TOOLS_RTSP_BENCH_READER_LOOP_H_

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tools/rtsp_bench/rtsp_parse.h"

namespace rtsptest::tools::bench {

// A URL and the address it resolved to (once, before the run).
struct Target {
  RtspUrl url;
  sockaddr_storage address{};
  socklen_t address_length = 0;
};

enum class TransportMode { kTcp, kUdp };

struct BenchConfig {
  std::vector<Target> targets;  // reader i reads targets[i % size]
  int readers = 1;
  double ramp = 0;                              // readers started per second; 0: all at once
  absl::Duration duration = absl::Seconds(10);  // after the last reader started
  TransportMode transport = TransportMode::kTcp;
  // Churn: this fraction of connection attempts drops at a random stage
  // (connect, each request just sent, or while playing), `churn_reset` of
  // those with a TCP reset, and reconnects after up to 100 ms.
  double churn = 0;
  double churn_reset = 0.5;
  absl::Duration churn_hold = absl::Seconds(2);  // longest play before a "playing" drop
  // When positive, every attempt the fraction above spared drops while
  // playing too, after a random time of mean `churn_every` (uniform over
  // twice that): churn that lasts as long as the run.
  absl::Duration churn_every = absl::ZeroDuration();
  absl::Duration timeout = absl::Seconds(10);  // connect, each reply, first packet
  bool options = true;                         // send OPTIONS first
  bool keepalive_options = false;              // OPTIONS instead of GET_PARAMETER
  bool teardown = true;                        // TEARDOWN at the end
  std::string udp_bind;                        // UDP sockets' address; "" any
  std::string user_agent = "rtsp_bench";
  uint64_t seed = 1;
  int threads = 1;
};

// One reader's outcome over the run: a CSV row.
struct ReaderResult {
  int id = 0;
  std::string url;
  std::string state;  // at the end: playing, failed, connecting, describing, ...
  int attempts = 0;
  int connects = 0;  // attempts whose TCP connect succeeded
  int plays = 0;     // attempts whose PLAY got 200
  int churn_drops = 0;
  std::string failure_stage;  // when state == "failed"
  std::string error;
  // Of the last attempt that got that far, from its connect start; -1 none.
  double connect_ms = -1;
  double describe_ms = -1;
  double play_ms = -1;
  double first_packet_ms = -1;
  int64_t packets = 0;
  int64_t bytes = 0;
  int64_t lost = 0;
  int64_t gap_events = 0;
  int64_t late = 0;
  int64_t duplicates = 0;
  int64_t resyncs = 0;
  double longest_gap_ms = -1;  // between two RTP packets (any track)
  double media_rate = 0;       // lowest track's, of the longest attempt; 0 unknown
  double media_seconds = 0;    // wall time that rate was measured over
};

struct FailureStat {
  int64_t count = 0;
  std::string sample_error;
};

// What a loop hands back when it ends.
struct LoopResult {
  std::vector<ReaderResult> readers;
  std::vector<double> connect_ms, describe_ms, play_ms, first_packet_ms;  // every attempt
  std::map<std::string, FailureStat> failures;                            // by stage
  std::map<std::string, int64_t> churn_drops;                             // by stage
  int64_t churn_resets = 0;
  double cpu_seconds = 0;  // this loop thread's user + system time
  double wall_seconds = 0;
};

// Counters a loop publishes about every 100 ms for the progress line.
struct LiveCounters {
  std::atomic<int64_t> started{0};
  std::atomic<int64_t> connecting{0};  // between connect and PLAY's reply
  std::atomic<int64_t> playing{0};
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> churn_drops{0};
  std::atomic<int64_t> bytes{0};
  std::atomic<int64_t> packets{0};
};

// Runs readers loop_index, loop_index + loops, ... of config.readers; reader
// i starts at start_us + i / ramp; all stop at end_us (steady clock, us) or
// when *stop turns true.
LoopResult RunLoop(const BenchConfig& config, int loop_index, int64_t start_us, int64_t end_us,
                   LiveCounters* live, const std::atomic<bool>* stop);

// The steady clock in microseconds (the loops' time base).
int64_t SteadyNowUs();

}  // namespace rtsptest::tools::bench

#endif  // RTSPTEST_TOOLS_RTSP_BENCH_READER_LOOP_H_
