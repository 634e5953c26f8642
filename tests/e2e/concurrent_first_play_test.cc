// Reproducer (tagged manual: it fails today): readers on several ports that
// PLAY a never-played stream at the same moment abort the server in
// gst_rtsp_media_get_rates() ("rtsp-media.c:2766: assertion failed").
//
// Seen first with four ffprobe runs against /cam2 of config/default.yaml
// (720p H.265) on its four ports. The shared media is prepared but left
// blocked by SharedMediaKeeper; the first PLAY unblocks it, and a PLAY that
// arrives before a stream's first segment reached its send_rtp_sink pad asks
// for the rates of a stream that has none. A slow encoder (x265 at 720p)
// widens that window. Run: bazel test //tests/e2e:concurrent_first_play_test
#include <signal.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

using tools::RtspClient;
using tools::Transport;

constexpr absl::Duration kStepTimeout = absl::Seconds(10);
constexpr int kStreams = 4;
constexpr int kReadersPerStream = 8;

std::string Config() {
  std::string config = R"yaml(
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
  - {name: b, bind_address: 127.0.0.1, port: 0}
  - {name: c, bind_address: 127.0.0.1, port: 0}
  - {name: d, bind_address: 127.0.0.1, port: 0}
drain_timeout: 0s
streams:
)yaml";
  for (int i = 0; i < kStreams; ++i) {
    absl::StrAppend(
        &config, "  - {path: /h265_", i,
        ", plugin: testpattern, parameters: {codec: h265, width: 1280, height: 720, fps: 25, "
        "gop: 50, overlay: true}}\n");
  }
  return config;
}

TEST(ConcurrentFirstPlayTest, SimultaneousFirstPlaysOnFourPortsKeepTheServerUp) {
  ServerProcess server;
  ASSERT_TRUE(server.StartWithConfig(Config()).ok()) << server.output();
  const std::vector<std::string> listeners = {"a", "b", "c", "d"};
  for (int stream = 0; stream < kStreams; ++stream) {
    const std::string path = absl::StrCat("/h265_", stream);
    // All readers SETUP first, then PLAY together.
    absl::Barrier* barrier = new absl::Barrier(kReadersPerStream);
    std::vector<std::thread> readers;
    for (int i = 0; i < kReadersPerStream; ++i) {
      readers.emplace_back([&, i] {
        RtspClient client(server.url(listeners[i % listeners.size()], path));
        bool ready = client.Connect(kStepTimeout).ok() && client.Describe(kStepTimeout).ok() &&
                     client.SetupAll(Transport::kTcpInterleaved, kStepTimeout).ok();
        if (barrier->Block()) delete barrier;
        if (ready && client.Play(kStepTimeout).ok())
          (void)client.ReadMedia(absl::Milliseconds(300));
        client.Close();
      });
    }
    for (std::thread& reader : readers) reader.join();
    ASSERT_TRUE(server.IsRunning()) << "the server died on the first PLAYs of " << path << "\n"
                                    << server.output();
  }
  absl::StatusOr<int> exit_code = server.Stop(SIGTERM);
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 0);
}

}  // namespace
}  // namespace rtsptest::testing
