// The fan-out (core/listener/fan_out.h) as real RTSP readers of the server
// see it: TCP readers of one stream each get every RTP packet of every track
// exactly once and in order, from their first on, so the hand-over from
// gst-rtsp-server to the fan-out neither loses nor repeats a packet; a
// reader that pauses gets nothing more, and plays again after a new PLAY.
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

using tools::RtspClient;
using tools::Transport;

constexpr absl::Duration kStepTimeout = absl::Seconds(5);

ServerProcess* server = nullptr;

class ServerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    server = new ServerProcess();
    ASSERT_TRUE(server
                    ->StartWithConfig(R"yaml(
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
streams:
  - {path: /av, plugin: testpattern, parameters: {codec: h264, audio: opus, width: 320, height: 240, fps: 25, gop: 25, overlay: false}}
drain_timeout: 0s
)yaml")
                    .ok())
        << server->output();
  }
  void TearDown() override {
    delete server;
    server = nullptr;
  }
};

const ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new ServerEnvironment);

// What one reader saw on one interleaved channel.
struct Channel {
  int packets = 0;
  int discontinuities = 0;  // a sequence number other than the last + 1
  int last = -1;
};

struct Reading {
  std::string error;
  std::map<int, Channel> channels;  // 0: video RTP, 2: audio RTP
};

void Count(Reading& reading, int channel, absl::string_view rtp) {
  if (rtp.size() < 12) return;
  const int seq = (static_cast<uint8_t>(rtp[2]) << 8) | static_cast<uint8_t>(rtp[3]);
  Channel& seen = reading.channels[channel];
  if (seen.last >= 0 && seq != (seen.last + 1) % 65536) ++seen.discontinuities;
  seen.last = seq;
  ++seen.packets;
}

absl::Status Start(RtspClient& client) {
  absl::Status status = client.Connect(kStepTimeout);
  if (status.ok()) status = client.Describe(kStepTimeout).status();
  if (status.ok()) status = client.SetupAll(Transport::kTcpInterleaved, kStepTimeout);
  if (status.ok()) status = client.Play(kStepTimeout).status();
  return status;
}

// Reads `client`'s media for `duration`, counting every RTP packet.
Reading Read(RtspClient& client, absl::Duration duration) {
  Reading reading;
  absl::Status status = client
                            .ReadMedia(duration,
                                       [&](int channel, absl::string_view rtp) {
                                         Count(reading, channel, rtp);
                                         return true;
                                       })
                            .status();
  if (!status.ok()) reading.error = status.ToString();
  return reading;
}

Reading PlayAndRead(absl::Duration duration) {
  RtspClient client(server->url("a", "/av"));
  absl::Status status = Start(client);
  Reading reading;
  if (status.ok()) {
    reading = Read(client, duration);
  } else {
    reading.error = status.ToString();
  }
  client.Close();
  return reading;
}

TEST(FanOutTest, EveryTcpReaderGetsEveryPacketOfEveryTrackOnceAndInOrder) {
  constexpr int kReaders = 24;
  std::vector<Reading> readings(kReaders);
  std::vector<std::thread> threads;
  for (int i = 0; i < kReaders; ++i) {
    threads.emplace_back([i, &readings] { readings[i] = PlayAndRead(absl::Seconds(5)); });
  }
  for (std::thread& thread : threads) thread.join();

  for (int i = 0; i < kReaders; ++i) {
    SCOPED_TRACE(absl::StrCat("reader ", i));
    const Reading& reading = readings[i];
    ASSERT_TRUE(reading.error.empty()) << reading.error;
    for (int channel : {0, 2}) {
      SCOPED_TRACE(channel == 0 ? "video" : "audio");
      ASSERT_EQ(reading.channels.count(channel), 1u);
      const Channel& seen = reading.channels.at(channel);
      // At least a second of media (25 video frames; 50 Opus packets), even
      // for a reader admitted after a few key frames (one a second).
      EXPECT_GE(seen.packets, 25);
      EXPECT_EQ(seen.discontinuities, 0);
    }
  }
}

TEST(FanOutTest, APausedReaderGetsNothingMoreAndAPlayResumesIt) {
  RtspClient client(server->url("a", "/av"));
  ASSERT_TRUE(Start(client).ok());
  Reading before = Read(client, absl::Seconds(1));
  ASSERT_TRUE(before.error.empty()) << before.error;
  ASSERT_GE(before.channels[0].packets, 10);  // handed over to the fan-out by now

  absl::StatusOr<tools::RtspResponse> pause = client.Pause(kStepTimeout);
  ASSERT_TRUE(pause.ok()) << pause.status();
  ASSERT_EQ(pause->status_code, 200);
  // The server stops sending before it answers PAUSE: nothing comes after.
  absl::StatusOr<int64_t> after_pause = client.ReadMedia(absl::Milliseconds(700));
  ASSERT_TRUE(after_pause.ok()) << after_pause.status();
  EXPECT_EQ(*after_pause, 0);

  absl::StatusOr<tools::RtspResponse> play = client.Play(kStepTimeout);
  ASSERT_TRUE(play.ok()) << play.status();
  ASSERT_EQ(play->status_code, 200);
  Reading resumed = Read(client, absl::Seconds(2));
  ASSERT_TRUE(resumed.error.empty()) << resumed.error;
  EXPECT_GE(resumed.channels[0].packets, 10);
  EXPECT_EQ(resumed.channels[0].discontinuities, 0);
}

}  // namespace
}  // namespace rtsptest::testing
