// control_plane_bench: how fast the control API acts on media, as a reader
// sees it, against the real rtsp_test_server on loopback.
//
//   create   CreateStream of a 640x360 25 fps H.264 test pattern, then a
//            reader (tools/rtsp_client: DESCRIBE, SETUP over TCP, PLAY)
//            until its first RTP packet; DeleteStream; --creates times.
//            Reports the RPC's latency and call -> first RTP packet.
//   stall    one reader plays a steady stream; InjectFault(stall, 600 ms)
//            --stalls times. Reports the RPC's latency and how long packets
//            still arrived after the call began (the last packet before the
//            gap), i.e. how soon the reader's media stops.
// Prints a Markdown table (p50, p99, max). Not a test: run
// bench/run_control_bench.sh. Bounded by --deadline (SIGALRM); the server
// dies with this process.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/util/child_process.h"
#include "grpcpp/grpcpp.h"
#include "rtsptest/control/v1/control.grpc.pb.h"
#include "tools/rtsp_client/rtsp_client.h"

ABSL_FLAG(std::string, server, "", "rtsp_test_server binary (default: from runfiles).");
ABSL_FLAG(int, creates, 40, "CreateStream -> first RTP rounds.");
ABSL_FLAG(int, stalls, 40, "InjectFault(stall) rounds.");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(240), "Hard cap on the whole run.");

namespace rtsptest::bench {
namespace {

namespace v1 = ::rtsptest::control::v1;
constexpr absl::Duration kStep = absl::Seconds(10);
constexpr absl::Duration kStallFor = absl::Milliseconds(600);
// Longer than any inter-packet time of a 25 fps stream: the stall's gap.
constexpr absl::Duration kGap = absl::Milliseconds(250);

constexpr char kConfig[] = R"yaml(
listeners:
  - {name: lo, bind_address: 127.0.0.1, port: 0}
control: {bind_address: 127.0.0.1, port: 0}
streams:
  - path: /steady
    plugin: testpattern
    parameters: {codec: h264, width: 640, height: 360, fps: 25}
drain_timeout: 0s
)yaml";

std::string WriteConfig() {
  char dir[] = "/tmp/control_bench.XXXXXX";
  if (mkdtemp(dir) == nullptr) return "";
  std::string path = absl::StrCat(dir, "/config.yaml");
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(kConfig, f);
  std::fclose(f);
  return path;
}

config::v1::Stream TestPattern(const std::string& path) {
  config::v1::Stream stream;
  stream.set_path(path);
  stream.set_plugin("testpattern");
  auto& p = *stream.mutable_parameters();
  p["codec"] = "h264";
  p["width"] = "640";
  p["height"] = "360";
  p["fps"] = "25";
  return stream;
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + kStep));
  return context;
}

struct Series {
  std::string name;
  std::vector<double> ms;
  std::string Row() const {
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    auto at = [&](double q) {
      return sorted.empty()
                 ? 0.0
                 : sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * sorted.size()))];
    };
    return absl::StrCat("| ", name, " | ", sorted.size(), " | ", absl::StrFormat("%.1f", at(0.5)),
                        " | ", absl::StrFormat("%.1f", at(0.99)), " | ",
                        absl::StrFormat("%.1f", sorted.empty() ? 0.0 : sorted.back()), " |");
  }
};

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// Plays `url` over TCP and returns the time of its first RTP packet.
absl::StatusOr<absl::Time> FirstPacket(const std::string& url) {
  tools::RtspClient reader(url);
  if (absl::Status s = reader.Connect(kStep); !s.ok()) return s;
  if (absl::StatusOr<tools::RtspResponse> r = reader.Describe(kStep); !r.ok()) return r.status();
  if (absl::Status s = reader.SetupAll(tools::Transport::kTcpInterleaved, kStep); !s.ok()) return s;
  if (absl::StatusOr<tools::RtspResponse> r = reader.Play(kStep); !r.ok()) return r.status();
  absl::Time first = absl::InfinitePast();
  absl::StatusOr<int64_t> n = reader.ReadMedia(kStep, [&](int, absl::string_view) {
    first = absl::Now();
    return false;
  });
  if (!n.ok()) return n.status();
  if (first == absl::InfinitePast()) return absl::DeadlineExceededError("no RTP packet");
  return first;
}

// Packet arrival times of one reader, read on a thread.
class ArrivalLog {
 public:
  explicit ArrivalLog(const std::string& url) : reader_(url) {}
  absl::Status Start() {
    if (absl::Status s = reader_.Connect(kStep); !s.ok()) return s;
    if (absl::StatusOr<tools::RtspResponse> r = reader_.Describe(kStep); !r.ok()) return r.status();
    if (absl::Status s = reader_.SetupAll(tools::Transport::kTcpInterleaved, kStep); !s.ok()) {
      return s;
    }
    if (absl::StatusOr<tools::RtspResponse> r = reader_.Play(kStep); !r.ok()) return r.status();
    thread_ = std::thread([this] {
      (void)reader_.ReadMedia(absl::GetFlag(FLAGS_deadline),
                              [this](int channel, absl::string_view) {
                                absl::MutexLock lock(&mutex_);
                                if (channel == 0) arrivals_.push_back(absl::Now());
                                return !stop_;
                              });
    });
    return absl::OkStatus();
  }
  ~ArrivalLog() {
    {
      absl::MutexLock lock(&mutex_);
      stop_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }
  // Waits until a packet arrived after `t`; false on timeout.
  bool AwaitPacketAfter(absl::Time t, absl::Duration timeout) {
    absl::MutexLock lock(&mutex_);
    auto arrived = [&]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) {
      return !arrivals_.empty() && arrivals_.back() > t;
    };
    return mutex_.AwaitWithTimeout(absl::Condition(&arrived), timeout);
  }
  // The last arrival before the first gap of at least kGap after `from`.
  std::optional<absl::Time> LastBeforeGap(absl::Time from) {
    absl::MutexLock lock(&mutex_);
    absl::Time previous = from;
    for (absl::Time t : arrivals_) {
      if (t < from) continue;
      if (t - previous >= kGap) return previous;
      previous = t;
    }
    return std::nullopt;
  }

 private:
  tools::RtspClient reader_;
  std::thread thread_;
  absl::Mutex mutex_;
  std::vector<absl::Time> arrivals_ ABSL_GUARDED_BY(mutex_);
  bool stop_ ABSL_GUARDED_BY(mutex_) = false;
};

int Run() {
  std::string server_bin = absl::GetFlag(FLAGS_server);
  if (server_bin.empty()) server_bin = Runfile("app/rtsp_test_server");
  Child server;
  if (!server.Start({server_bin, "--config=" + WriteConfig()})) return 1;
  std::optional<std::string> control = server.WaitForLine("control plane serving", kStep * 3);
  std::optional<std::string> rtsp = server.WaitForLine("listener serving", kStep);
  if (!control || !rtsp || !server.WaitForLine("\"msg\":\"server started\"", kStep * 3)) {
    std::fprintf(stderr, "rtsp_test_server did not start:\n");
    for (const std::string& line : server.Lines()) std::fprintf(stderr, "  %s\n", line.c_str());
    return 1;
  }
  const std::string grpc_addr = absl::StrCat("127.0.0.1:", JsonField(*control, "grpc_port"));
  const std::string rtsp_base = absl::StrCat("rtsp://127.0.0.1:", JsonField(*rtsp, "port"));
  auto stub = v1::ControlService::NewStub(
      grpc::CreateChannel(grpc_addr, grpc::InsecureChannelCredentials()));

  Series create_rpc{"CreateStream RPC"}, create_to_rtp{"CreateStream call -> first RTP packet"};
  for (int i = 0; i < absl::GetFlag(FLAGS_creates); ++i) {
    const std::string path = absl::StrCat("/bench", i);
    v1::CreateStreamRequest request;
    *request.mutable_stream() = TestPattern(path);
    v1::StreamStatus status;
    const absl::Time start = absl::Now();
    grpc::Status created = stub->CreateStream(Context().get(), request, &status);
    const absl::Time acked = absl::Now();
    if (!created.ok()) {
      std::fprintf(stderr, "CreateStream %s: %s\n", path.c_str(), created.error_message().c_str());
      return 1;
    }
    absl::StatusOr<absl::Time> first = FirstPacket(rtsp_base + path);
    if (!first.ok()) {
      std::fprintf(stderr, "reader of %s: %s\n", path.c_str(), first.status().ToString().c_str());
      return 1;
    }
    create_rpc.ms.push_back(Ms(acked - start));
    create_to_rtp.ms.push_back(Ms(*first - start));
    v1::DeleteStreamRequest remove;
    remove.set_path(path);
    v1::DeleteStreamResponse removed;
    (void)stub->DeleteStream(Context().get(), remove, &removed);
  }

  Series inject_rpc{"InjectFault(stall) RPC"},
      inject_to_gap{"InjectFault(stall) call -> last packet before the gap"};
  ArrivalLog log(rtsp_base + "/steady");
  if (absl::Status s = log.Start(); !s.ok()) {
    std::fprintf(stderr, "reader of /steady: %s\n", s.ToString().c_str());
    return 1;
  }
  for (int i = 0; i < absl::GetFlag(FLAGS_stalls); ++i) {
    // Media flows again (the last stall cleared) before the next one.
    if (!log.AwaitPacketAfter(absl::Now() + absl::Milliseconds(100), kStep)) {
      std::fprintf(stderr, "/steady did not resume after stall %d\n", i);
      return 1;
    }
    v1::InjectFaultRequest request;
    request.mutable_fault()->set_kind("stall");
    request.mutable_fault()->set_stream("/steady");
    request.mutable_fault()->mutable_duration()->set_nanos(
        static_cast<int32_t>(absl::ToInt64Nanoseconds(kStallFor)));
    v1::Fault fault;
    const absl::Time start = absl::Now();
    grpc::Status injected = stub->InjectFault(Context().get(), request, &fault);
    const absl::Time acked = absl::Now();
    if (!injected.ok()) {
      std::fprintf(stderr, "InjectFault: %s\n", injected.error_message().c_str());
      return 1;
    }
    inject_rpc.ms.push_back(Ms(acked - start));
    // The fault clears itself; the gap is in the log once packets resume.
    if (!log.AwaitPacketAfter(start + kStallFor, kStep)) {
      std::fprintf(stderr, "/steady did not resume after stall %d\n", i);
      return 1;
    }
    std::optional<absl::Time> last = log.LastBeforeGap(start);
    if (!last) {
      std::fprintf(stderr, "stall %d: the reader saw no gap of %s\n", i,
                   absl::FormatDuration(kGap).c_str());
      return 1;
    }
    inject_to_gap.ms.push_back(std::max(0.0, Ms(*last - start)));
  }

  std::printf("| measure (ms) | n | p50 | p99 | max |\n|---|---|---|---|---|\n");
  for (const Series* s : {&create_rpc, &create_to_rtp, &inject_rpc, &inject_to_gap}) {
    std::printf("%s\n", s->Row().c_str());
  }
  return 0;
}

}  // namespace
}  // namespace rtsptest::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "CreateStream -> first RTP packet, and InjectFault(stall) -> the reader's gap, against the "
      "real rtsp_test_server on loopback.");
  absl::ParseCommandLine(argc, argv);
  alarm(static_cast<unsigned>(absl::ToInt64Seconds(absl::GetFlag(FLAGS_deadline))));
  signal(SIGPIPE, SIG_IGN);
  return rtsptest::bench::Run();
}
