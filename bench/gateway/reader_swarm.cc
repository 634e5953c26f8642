// reader_swarm: holds N RTSP readers (TCP-interleaved, one thread each) on
// one stream for a while, for the gateway benchmark's "/health under load"
// phase. Prints one JSON line when the swarm is up and one when it ends.
//
//   reader_swarm --url=rtsp://127.0.0.1:8554/cam --readers=500 --duration=40s
#include <atomic>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tools/rtsp_client/rtsp_client.h"

ABSL_FLAG(std::string, url, "", "Stream URL, e.g. rtsp://127.0.0.1:8554/cam.");
ABSL_FLAG(int, readers, 500, "Readers to start.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(30),
          "How long to hold them, from the first start.");
ABSL_FLAG(absl::Duration, ramp, absl::Seconds(10), "Time over which the readers start.");

namespace {

using rtsptest::tools::RtspClient;
using rtsptest::tools::Transport;

constexpr absl::Duration kStep = absl::Seconds(10);

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Holds many RTSP readers on one stream (gateway benchmark helper).");
  absl::ParseCommandLine(argc, argv);
  const std::string url = absl::GetFlag(FLAGS_url);
  const int count = absl::GetFlag(FLAGS_readers);
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::GetFlag(FLAGS_duration);
  const absl::Duration gap = absl::GetFlag(FLAGS_ramp) / std::max(count, 1);
  std::atomic<int> playing{0}, failed{0}, finished{0};
  std::atomic<int64_t> bytes{0};
  std::vector<std::thread> threads;
  threads.reserve(count);
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&] {
      RtspClient client(url);
      bool ok = client.Connect(kStep).ok() && client.Describe(kStep).ok() &&
                client.SetupAll(Transport::kTcpInterleaved, kStep).ok() && client.Play(kStep).ok();
      if (!ok) {
        ++failed;
        ++finished;
        return;
      }
      ++playing;
      ++finished;
      while (absl::Now() < end) {
        if (!client.ReadMedia(std::min(absl::Seconds(1), end - absl::Now())).ok()) break;
      }
      bytes += client.media_bytes();
      client.Close();
    });
    absl::SleepFor(gap);
  }
  while (finished.load() < count && absl::Now() < end) absl::SleepFor(absl::Milliseconds(50));
  std::cout << "{\"event\":\"up\",\"playing\":" << playing << ",\"failed\":" << failed
            << ",\"seconds\":" << absl::ToDoubleSeconds(absl::Now() - start) << "}" << std::endl;
  for (std::thread& thread : threads) thread.join();
  std::cout << "{\"event\":\"done\",\"playing\":" << playing << ",\"bytes\":" << bytes << "}"
            << std::endl;
  return failed.load() == 0 ? 0 : 1;
}
