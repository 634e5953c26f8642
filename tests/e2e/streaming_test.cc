// Streaming: every built-in plugin and codec, read over RTP/TCP and RTP/UDP by
// an in-process GStreamer client (rtspsrc ! decodebin), must decode.
//
// One server serves the whole suite (a global test environment), with two
// port-0 listeners "a" and "b" on 127.0.0.1. Streams are small (320x240,
// 10 fps, a keyframe every second) so that a 2-core machine serves them all
// at once. Each case awaits decoded appsink samples with a deadline; nothing
// sleeps.
#include <signal.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/util/rtsp_reader.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

using tools::RtspClient;
using tools::RtspResponse;

constexpr absl::Duration kDecodeTimeout = absl::Seconds(15);
constexpr absl::Duration kStepTimeout = absl::Seconds(10);
constexpr int kMinVideoFrames = 3;
constexpr int kMinAudioBuffers = 1;

// What a client must decode from one configured stream.
struct StreamCase {
  const char* path;
  int width;
  int height;
  int audio_rate;  // 0: the stream has no audio
};

// Keep in sync with Config() below.
const StreamCase kStreams[] = {
    {"/h264", 320, 240, 0},
    {"/h265", 320, 240, 0},
    {"/mjpeg", 320, 240, 0},
    {"/h264_opus", 320, 240, 48000},
    {"/h264_pcmu", 320, 240, 8000},
    {"/h264_pcma", 320, 240, 8000},
    {"/h264_aac", 320, 240, 48000},
    {"/file_mp4_h264_aac", 320, 240, 48000},
    {"/file_mkv_h265_opus", 320, 240, 48000},
    {"/file_ts_h264_aac", 320, 240, 48000},
    {"/pipeline_h264", 320, 240, 0},
};

std::string Clip(const std::string& name) {
  return RunfilePath("plugins/builtin/file/testdata/" + name);
}

std::string Config() {
  // fps 10 with gop 10: a late reader waits at most a second for a keyframe.
  const std::string video = "width: 320, height: 240, fps: 10, gop: 10, bitrate_kbps: 300";
  return absl::StrCat(R"yaml(
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
  - {name: b, bind_address: 127.0.0.1, port: 0}
streams:
  - {path: /h264, plugin: testpattern, parameters: {codec: h264, overlay: true, )yaml",
                      video, R"yaml(}}
  - {path: /h265, plugin: testpattern, parameters: {codec: h265, overlay: false, )yaml",
                      video, R"yaml(}}
  - {path: /mjpeg, plugin: testpattern, parameters: {codec: mjpeg, overlay: false, )yaml",
                      video, R"yaml(}}
  - {path: /h264_opus, plugin: testpattern, parameters: {codec: h264, audio: opus, overlay: false, )yaml",
                      video, R"yaml(}}
  - {path: /h264_pcmu, plugin: testpattern, parameters: {codec: h264, audio: pcmu, overlay: false, )yaml",
                      video, R"yaml(}}
  - {path: /h264_pcma, plugin: testpattern, parameters: {codec: h264, audio: pcma, overlay: false, )yaml",
                      video, R"yaml(}}
  - {path: /h264_aac, plugin: testpattern, parameters: {codec: h264, audio: aac, overlay: false, )yaml",
                      video, R"yaml(}}
  - {path: /file_mp4_h264_aac, plugin: file, parameters: {location: ')yaml",
                      Clip("h264_aac.mp4"), R"yaml('}}
  - {path: /file_mkv_h265_opus, plugin: file, parameters: {location: ')yaml",
                      Clip("h265_opus.mkv"), R"yaml('}}
  - {path: /file_ts_h264_aac, plugin: file, parameters: {location: ')yaml",
                      Clip("h264_aac.ts"), R"yaml('}}
  - path: /pipeline_h264
    plugin: pipeline
    parameters:
      description: "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=10/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! rtph264pay name=pay0 pt=96 config-interval=-1"
  - {path: /only_a, plugin: testpattern, listeners: [a], parameters: {codec: mjpeg, overlay: false, )yaml",
                      video, R"yaml(}}
  - {path: /long_gop, plugin: testpattern, parameters: {codec: h264, width: 320, height: 240, fps: 10, gop: 1000, overlay: false}}
drain_timeout: 0s
)yaml");
}

size_t CountOccurrences(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

// The one server of this test binary.
ServerProcess* server = nullptr;

class ServerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    server = new ServerProcess();
    ASSERT_TRUE(server->StartWithConfig(Config()).ok()) << server->output();
    ASSERT_NE(server->port("a"), 0) << server->output();
    ASSERT_NE(server->port("b"), 0) << server->output();
  }
  void TearDown() override {
    ASSERT_TRUE(server->IsRunning()) << "the server died during the suite:\n" << server->output();
    absl::StatusOr<int> exit_code = server->Stop(SIGTERM);
    ASSERT_TRUE(exit_code.ok()) << exit_code.status();
    EXPECT_EQ(*exit_code, 0) << server->output();
    // Every configured stream was mounted (none was skipped with an error).
    const std::string output = server->output();
    EXPECT_EQ(CountOccurrences(output, "\"msg\":\"stream mounted\""), std::size(kStreams) + 2)
        << output;
    EXPECT_EQ(CountOccurrences(output, "\"msg\":\"stream skipped\""), 0u) << output;
    delete server;
    server = nullptr;
  }
};

const ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new ServerEnvironment);

void ExpectDecodes(const StreamCase& stream, const std::string& listener, RtspProtocol protocol) {
  RtspReader reader(server->url(listener, stream.path), protocol);
  ASSERT_TRUE(reader.Start().ok());
  absl::Status status = reader.WaitForMedia(
      kMinVideoFrames, stream.audio_rate != 0 ? kMinAudioBuffers : 0, kDecodeTimeout);
  ASSERT_TRUE(status.ok()) << status;
  DecodedMedia media = reader.media();
  EXPECT_EQ(media.width, stream.width);
  EXPECT_EQ(media.height, stream.height);
  if (stream.audio_rate != 0) {
    EXPECT_EQ(media.audio_rate, stream.audio_rate);
    EXPECT_EQ(media.audio_channels, 1);
  } else {
    EXPECT_EQ(media.audio_buffers, 0);
  }
}

class StreamDecodeTest : public ::testing::TestWithParam<std::tuple<StreamCase, RtspProtocol>> {};

TEST_P(StreamDecodeTest, DecodesVideoAndAudioWithTheConfiguredFormat) {
  const auto& [stream, protocol] = GetParam();
  ExpectDecodes(stream, "a", protocol);
}

INSTANTIATE_TEST_SUITE_P(AllPluginsAndCodecs, StreamDecodeTest,
                         ::testing::Combine(::testing::ValuesIn(kStreams),
                                            ::testing::Values(RtspProtocol::kTcp,
                                                              RtspProtocol::kUdp)),
                         [](const ::testing::TestParamInfo<StreamDecodeTest::ParamType>& info) {
                           std::string path = std::get<0>(info.param).path;
                           return absl::StrCat(
                               absl::StrReplaceAll(path.substr(1), {{"/", "_"}}),
                               std::get<1>(info.param) == RtspProtocol::kTcp ? "_Tcp" : "_Udp");
                         });

// True when an H.264 RTP payload (RFC 6184) carries or starts an IDR slice.
bool IsH264IdrPacket(absl::string_view rtp) {
  if (rtp.size() < 14) return false;
  const size_t header = 12 + 4 * (static_cast<unsigned char>(rtp[0]) & 0x0f);
  if (rtp.size() <= header + 1) return false;
  const int nal_type = static_cast<unsigned char>(rtp[header]) & 0x1f;
  if (nal_type == 5) return true;  // single NAL unit
  if (nal_type == 28) return (static_cast<unsigned char>(rtp[header + 1]) & 0x1f) == 5;  // FU-A
  if (nal_type == 24) {                                                                  // STAP-A
    for (size_t at = header + 1; at + 2 < rtp.size();) {
      const size_t size =
          (static_cast<unsigned char>(rtp[at]) << 8) | static_cast<unsigned char>(rtp[at + 1]);
      if (at + 2 < rtp.size() && (static_cast<unsigned char>(rtp[at + 2]) & 0x1f) == 5) return true;
      at += 2 + size;
    }
  }
  return false;
}

// Plays /long_gop over TCP and reads for up to `duration`; true as soon as an
// IDR arrives. Like many camera clients that cache the stream layout, it
// skips DESCRIBE and goes straight to SETUP of the known track.
bool SeesIdrWithin(absl::Duration duration) {
  const std::string url = server->url("b", "/long_gop");
  tools::RtspClient client(url);
  client.set_track_urls({url + "/stream=0"});
  if (!client.Connect(absl::Seconds(5)).ok() ||
      !client.SetupAll(tools::Transport::kTcpInterleaved, absl::Seconds(5)).ok() ||
      !client.Play(absl::Seconds(5)).ok()) {
    ADD_FAILURE() << "cannot play /long_gop";
    return false;
  }
  bool idr = false;
  absl::StatusOr<int64_t> packets =
      client.ReadMedia(duration, [&](int channel, absl::string_view rtp) {
        idr = channel == 0 && IsH264IdrPacket(rtp);
        return !idr;
      });
  EXPECT_TRUE(packets.ok()) << packets.status();
  return idr;
}

TEST(KeyFrameOnJoinTest, ReaderJoiningARunningLongGopStreamGetsAKeyFrameAtOnce) {
  // /long_gop has a key frame every 100 s. A first reader plays it for 3 s,
  // so that whatever key frames the encoder made at start-up are long gone;
  // the second reader then sees an IDR quickly only because its PLAY asks
  // the encoder for one.
  (void)SeesIdrWithin(absl::Seconds(3));
  EXPECT_TRUE(SeesIdrWithin(absl::Seconds(3))) << "no IDR within 3 s of PLAY";
}

TEST(SharedMediaTest, OneStreamDecodesOnBothListenersAtOnce) {
  // Two readers at the same time, one per port: the listeners share the
  // stream's single media pipeline.
  const StreamCase& stream = kStreams[3];  // /h264_opus
  RtspReader on_a(server->url("a", stream.path), RtspProtocol::kTcp);
  RtspReader on_b(server->url("b", stream.path), RtspProtocol::kUdp);
  ASSERT_TRUE(on_a.Start().ok());
  ASSERT_TRUE(on_b.Start().ok());
  absl::Status a = on_a.WaitForMedia(kMinVideoFrames, kMinAudioBuffers, kDecodeTimeout);
  absl::Status b = on_b.WaitForMedia(kMinVideoFrames, kMinAudioBuffers, kDecodeTimeout);
  ASSERT_TRUE(a.ok()) << a;
  ASSERT_TRUE(b.ok()) << b;
  EXPECT_EQ(on_b.media().width, stream.width);
  EXPECT_EQ(on_b.media().height, stream.height);
  EXPECT_EQ(on_b.media().audio_rate, stream.audio_rate);
}

TEST(SharedMediaTest, EveryStreamIsDescribedOnTheSecondListener) {
  for (const StreamCase& stream : kStreams) {
    RtspClient client(server->url("b", stream.path));
    ASSERT_TRUE(client.Connect(kStepTimeout).ok()) << stream.path;
    absl::StatusOr<RtspResponse> describe = client.Describe(kStepTimeout);
    ASSERT_TRUE(describe.ok()) << stream.path << ": " << describe.status();
    EXPECT_EQ(describe->status_code, 200) << stream.path;
    EXPECT_EQ(client.track_urls().size(), stream.audio_rate != 0 ? 2u : 1u) << stream.path;
  }
}

TEST(SharedMediaTest, StreamLimitedToOneListenerIsNotFoundOnTheOther) {
  RtspClient on_a(server->url("a", "/only_a"));
  ASSERT_TRUE(on_a.Connect(kStepTimeout).ok());
  absl::StatusOr<RtspResponse> found = on_a.Describe(kStepTimeout);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->status_code, 200);

  RtspClient on_b(server->url("b", "/only_a"));
  ASSERT_TRUE(on_b.Connect(kStepTimeout).ok());
  absl::StatusOr<RtspResponse> missing = on_b.Describe(kStepTimeout);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("404"), absl::string_view::npos) << missing.status();
}

}  // namespace
}  // namespace rtsptest::testing
