// A reader who joins a running stream starts on a picture it can decode: its
// first video RTP packet begins a key frame (parameter sets or IDR/IRAP for
// H.264/H.265, a frame's first fragment for JPEG), over TCP and UDP, alone or
// in a crowd. The streams have a key frame every 100 s, so only the server's
// per-reader gate (core/media/key_frame_gate.h) can make this hold.
#include <signal.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/media/key_frame_gate.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/util/rtsp_reader.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

using core::EntryPointFormat;
using core::StartsEntryPoint;
using tools::RtspClient;
using tools::Transport;

constexpr absl::Duration kStepTimeout = absl::Seconds(5);
// Time a joining reader may wait for its first video packet, generously: the
// key frame it asks for comes within a few frames (10 fps here), but a crowd
// joining at once is admitted over several key frames, asked for at most once
// a second (measured: up to 2.8 s for 50 readers on a quiet machine).
constexpr absl::Duration kFirstPacketTimeout = absl::Seconds(6);

ServerProcess* server = nullptr;

class ServerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const std::string video = "width: 320, height: 240, fps: 10, gop: 1000, overlay: false";
    server = new ServerProcess();
    ASSERT_TRUE(server
                    ->StartWithConfig(absl::StrCat(R"yaml(
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
streams:
  - {path: /h264, plugin: testpattern, parameters: {codec: h264, audio: opus, )yaml",
                                                   video, R"yaml(}}
  - {path: /h265, plugin: testpattern, parameters: {codec: h265, )yaml",
                                                   video, R"yaml(}}
  - {path: /mjpeg, plugin: testpattern, parameters: {codec: mjpeg, )yaml",
                                                   video, R"yaml(}}
drain_timeout: 0s
)yaml"))
                    .ok())
        << server->output();
  }
  void TearDown() override {
    ASSERT_TRUE(server->IsRunning()) << "the server died during the suite:\n" << server->output();
    absl::StatusOr<int> exit_code = server->Stop(SIGTERM);
    ASSERT_TRUE(exit_code.ok()) << exit_code.status();
    EXPECT_EQ(*exit_code, 0) << server->output();
    delete server;
    server = nullptr;
  }
};

const ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new ServerEnvironment);

// What one reader saw from PLAY on.
struct Join {
  std::string error;        // empty if the reader got a first video packet
  std::string first_video;  // the first video RTP payload that is no prefix
  int prefixes = 0;         // access unit delimiters or SEI before it
  absl::Duration wait;      // from the PLAY answer to the first video packet
};

std::string RtpPayload(absl::string_view rtp) {
  if (rtp.size() < 12) return "";
  size_t header = 12 + 4 * (static_cast<unsigned char>(rtp[0]) & 0x0f);
  if (static_cast<unsigned char>(rtp[0]) & 0x10) {  // header extension
    if (rtp.size() < header + 4) return "";
    header += 4 + 4 * ((static_cast<unsigned char>(rtp[header + 2]) << 8) |
                       static_cast<unsigned char>(rtp[header + 3]));
  }
  return header < rtp.size() ? std::string(rtp.substr(header)) : "";
}

// Reads the reader's first video packets up to the first that is not an
// access unit delimiter or SEI (`format` tells them apart).
Join JoinAndReadFirstVideoPacket(const std::string& path, Transport transport,
                                 EntryPointFormat format) {
  Join join;
  RtspClient client(server->url("a", path));
  absl::Status status = client.Connect(kStepTimeout);
  if (status.ok()) status = client.Describe(kStepTimeout).status();
  if (status.ok()) status = client.SetupAll(transport, kStepTimeout);
  if (status.ok()) status = client.Play(kStepTimeout).status();
  if (!status.ok()) {
    join.error = status.ToString();
    return join;
  }
  absl::Time played = absl::Now();
  bool seen = false;
  absl::StatusOr<int64_t> packets =
      client.ReadMedia(kFirstPacketTimeout, [&](int channel, absl::string_view rtp) {
        if (channel != 0) return true;  // track 0 is the video
        if (!seen) join.wait = absl::Now() - played;
        seen = true;
        join.first_video = RtpPayload(rtp);
        if (core::RoleOf(format, reinterpret_cast<const uint8_t*>(join.first_video.data()),
                         join.first_video.size()) == core::EntryPointRole::kPrefix) {
          ++join.prefixes;
          return true;
        }
        return false;
      });
  if (!packets.ok()) {
    join.error = packets.status().ToString();
  } else if (!seen) {
    join.error = absl::StrCat("no video packet within ", absl::FormatDuration(kFirstPacketTimeout));
  }
  client.Close();
  return join;
}

std::string Hex(const std::string& bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < 6; ++i) {
    absl::StrAppend(&out, absl::Hex(static_cast<unsigned char>(bytes[i]), absl::kZeroPad2), " ");
  }
  return out;
}

void ExpectStartsOnEntryPoint(const Join& join, EntryPointFormat format, const std::string& what) {
  ASSERT_TRUE(join.error.empty()) << what << ": " << join.error;
  EXPECT_TRUE(StartsEntryPoint(format, reinterpret_cast<const uint8_t*>(join.first_video.data()),
                               join.first_video.size()))
      << what << ": the first video payload after " << join.prefixes << " delimiters starts "
      << Hex(join.first_video) << "which begins no key frame";
}

struct Case {
  const char* path;
  EntryPointFormat format;
  Transport transport;
};

class KeyFrameJoinTest : public ::testing::TestWithParam<Case> {};

TEST_P(KeyFrameJoinTest, EveryJoiningReaderStartsOnAKeyFrame) {
  const Case& c = GetParam();
  absl::Duration longest;
  for (int i = 0; i < 6; ++i) {
    Join join = JoinAndReadFirstVideoPacket(c.path, c.transport, c.format);
    ExpectStartsOnEntryPoint(join, c.format, absl::StrCat(c.path, " reader ", i));
    longest = std::max(longest, join.wait);
  }
  std::cout << c.path << (c.transport == Transport::kUdp ? " udp" : " tcp")
            << ": longest wait from PLAY to the first video packet " << longest << "\n";
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, KeyFrameJoinTest,
    ::testing::Values(Case{"/h264", EntryPointFormat::kH264, Transport::kTcpInterleaved},
                      Case{"/h264", EntryPointFormat::kH264, Transport::kUdp},
                      Case{"/h265", EntryPointFormat::kH265, Transport::kTcpInterleaved},
                      Case{"/h265", EntryPointFormat::kH265, Transport::kUdp},
                      Case{"/mjpeg", EntryPointFormat::kJpeg, Transport::kTcpInterleaved},
                      Case{"/mjpeg", EntryPointFormat::kJpeg, Transport::kUdp}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return absl::StrCat(std::string(info.param.path).substr(1),
                          info.param.transport == Transport::kUdp ? "Udp" : "Tcp");
    });

TEST(KeyFrameJoinCrowdTest, FiftyReadersJoiningAtOnceAllStartOnAKeyFrame) {
  constexpr int kReaders = 50;
  std::vector<Join> joins(kReaders);
  std::vector<std::thread> threads;
  for (int i = 0; i < kReaders; ++i) {
    threads.emplace_back([i, &joins] {
      joins[i] = JoinAndReadFirstVideoPacket(
          "/h264", i % 2 == 0 ? Transport::kTcpInterleaved : Transport::kUdp,
          EntryPointFormat::kH264);
    });
  }
  for (std::thread& thread : threads) thread.join();
  absl::Duration longest;
  for (int i = 0; i < kReaders; ++i) {
    ExpectStartsOnEntryPoint(joins[i], EntryPointFormat::kH264, absl::StrCat("reader ", i));
    longest = std::max(longest, joins[i].wait);
  }
  std::cout << kReaders << " readers at once: longest wait from PLAY to the first video packet "
            << longest << "\n";
}

TEST(KeyFrameJoinChurnTest, ReadersLeavingBeforeTheirKeyFrameLeaveTheStreamServing) {
  // Each of these readers is still held out of the stream when it goes; the
  // gate must forget it, and a reader after them must still be served.
  for (int i = 0; i < 20; ++i) {
    RtspClient client(server->url("a", "/h265"));
    ASSERT_TRUE(client.Connect(kStepTimeout).ok());
    ASSERT_TRUE(client.Describe(kStepTimeout).ok());
    ASSERT_TRUE(
        client.SetupAll(i % 2 == 0 ? Transport::kTcpInterleaved : Transport::kUdp, kStepTimeout)
            .ok());
    ASSERT_TRUE(client.Play(kStepTimeout).ok());
    client.Close(/*reset=*/i % 4 < 2);
  }
  ExpectStartsOnEntryPoint(
      JoinAndReadFirstVideoPacket("/h265", Transport::kTcpInterleaved, EntryPointFormat::kH265),
      EntryPointFormat::kH265, "reader after the churn");
  EXPECT_TRUE(server->IsRunning());
}

TEST(KeyFrameJoinFailureTest, APlayAnsweredWithAnErrorDoesNotStallTheStreamsReaders) {
  // The gate stops the stream's packets while a PLAY activates its reader.
  // A PLAY that fails after that point (here a Range the server cannot
  // parse: 400) must end the stop at its answer, not at the gate's 2 s
  // safety bound, or every reader of the stream sees a 2 s hole.
  RtspClient watcher(server->url("a", "/h264"));
  ASSERT_TRUE(watcher.Connect(kStepTimeout).ok());
  ASSERT_TRUE(watcher.Describe(kStepTimeout).ok());
  ASSERT_TRUE(watcher.SetupAll(Transport::kTcpInterleaved, kStepTimeout).ok());
  ASSERT_TRUE(watcher.Play(kStepTimeout).ok());
  // Until the watcher is in: its first video packet.
  ASSERT_TRUE(watcher
                  .ReadMedia(kFirstPacketTimeout,
                             [](int channel, absl::string_view) { return channel != 0; })
                  .ok());

  for (int i = 0; i < 3; ++i) {
    RtspClient failing(server->url("a", "/h264"));
    ASSERT_TRUE(failing.Connect(kStepTimeout).ok());
    ASSERT_TRUE(failing.Describe(kStepTimeout).ok());
    ASSERT_TRUE(failing.SetupAll(Transport::kTcpInterleaved, kStepTimeout).ok());
    absl::StatusOr<tools::RtspResponse> answer = failing.Play(kStepTimeout, "npt=abc");
    ASSERT_FALSE(answer.ok());
    EXPECT_TRUE(absl::StrContains(answer.status().message(), "400 Bad Request")) << answer.status();
  }

  // The stream runs at 10 fps: a video packet at least every 100 ms.
  absl::Time last = absl::Now();
  absl::Duration longest_hole;
  int video_packets = 0;
  ASSERT_TRUE(watcher
                  .ReadMedia(absl::Seconds(1.5),
                             [&](int channel, absl::string_view) {
                               if (channel != 0) return true;
                               absl::Time now = absl::Now();
                               longest_hole = std::max(longest_hole, now - last);
                               last = now;
                               ++video_packets;
                               return true;
                             })
                  .ok());
  longest_hole = std::max(longest_hole, absl::Now() - last);
  EXPECT_GT(video_packets, 0);
  EXPECT_LT(longest_hole, absl::Seconds(1)) << "the failed PLAYs stopped the stream";
  std::cout << "after 3 failed PLAYs: longest hole between video packets " << longest_hole << "\n";
}

TEST(FirstDecodedFrameTest, AJoiningReaderDecodesItsFirstFrameAtOnce) {
  // From the start of a GStreamer client (DESCRIBE, SETUP, PLAY on loopback,
  // no jitter buffer) to its first decoded picture: the joining reader waits
  // for the key frame its PLAY asked for, one or two frame intervals at
  // 10 fps, not for the next GOP (100 s here).
  for (const char* path : {"/h264", "/h265", "/mjpeg"}) {
    for (RtspProtocol protocol : {RtspProtocol::kTcp, RtspProtocol::kUdp}) {
      RtspReader reader(server->url("a", path), protocol, /*latency_ms=*/0);
      absl::Time start = absl::Now();
      ASSERT_TRUE(reader.Start().ok()) << path;
      absl::Status decoded = reader.WaitForMedia(1, 0, absl::Seconds(3));
      ASSERT_TRUE(decoded.ok()) << path << ": " << decoded;
      std::cout << path << (protocol == RtspProtocol::kUdp ? " udp" : " tcp")
                << ": first decoded frame " << absl::Now() - start << " after the client started\n";
      EXPECT_EQ(reader.media().width, 320) << path;
    }
  }
}

}  // namespace
}  // namespace rtsptest::testing
