// The shipped config/default.yaml, probed with the real ffprobe as a user
// would: every stream on every port it is configured for reports the
// configured codec, resolution, frame rate and audio.
//
// Expectations are read from default.yaml itself (yaml-cpp), so the test
// follows the file and fails if the served media does not match it.
//
// Frame rate: ffprobe's r_frame_rate and avg_frame_rate are guesses from the
// first few packet timestamps (libavformat's ff_rfps_calculate). Over RTSP
// those timestamps jump once when ffmpeg's RTP demuxer switches to RTCP
// sender-report timing, which happens inside the probe window for sessions
// with a second (audio) stream, and is late under CPU load; one such jump is
// enough for the guess to land on a "standard" rate such as 240/1. The rate
// checked here is therefore the one the stream actually carries: the median
// spacing of consecutive video packet timestamps (90 kHz RTP clock) over the
// first 150 packets, which one jump cannot move. r_frame_rate is still printed on
// failure, for the record.
#include <signal.h>
#include <stdio.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/util/subprocess.h"
#include "tools/rtsp_client/rtsp_client.h"
#include "yaml-cpp/yaml.h"

namespace rtsptest::testing {
namespace {

using tools::RtspClient;
using tools::RtspResponse;

constexpr int kStreamsInDefaultConfig = 5;
constexpr int kPorts = 4;

// One stream of default.yaml, as ffprobe should report it.
struct ExpectedStream {
  std::string path;
  std::string video_codec;  // ffprobe's codec_name: h264, hevc, mjpeg
  int width = 0;
  int height = 0;
  int fps = 0;
  std::string audio_codec;  // "" for none; else opus, pcm_mulaw, pcm_alaw, aac
  int audio_rate = 0;
  std::vector<int> listener_indexes;  // into default.yaml's listeners
};

std::string FfprobeVideoCodec(const std::string& codec) {
  if (codec == "h264") return "h264";
  if (codec == "h265") return "hevc";
  if (codec == "mjpeg") return "mjpeg";
  return "unknown codec " + codec;
}

// ffprobe's codec name and the rate the testpattern plugin documents.
std::pair<std::string, int> FfprobeAudio(const std::string& audio) {
  if (audio == "opus") return {"opus", 48000};
  if (audio == "pcmu") return {"pcm_mulaw", 8000};
  if (audio == "pcma") return {"pcm_alaw", 8000};
  if (audio == "aac") return {"aac", 48000};
  return {"", 0};
}

std::vector<ExpectedStream> LoadExpectations(const std::string& path) {
  YAML::Node root = YAML::LoadFile(path);
  std::map<std::string, int> listener_index;
  for (size_t i = 0; i < root["listeners"].size(); ++i) {
    listener_index[root["listeners"][i]["name"].as<std::string>()] = static_cast<int>(i);
  }
  std::vector<ExpectedStream> streams;
  for (const YAML::Node& stream : root["streams"]) {
    EXPECT_EQ(stream["plugin"].as<std::string>(), "testpattern");
    const YAML::Node& p = stream["parameters"];
    ExpectedStream expected;
    expected.path = stream["path"].as<std::string>();
    expected.video_codec = FfprobeVideoCodec(p["codec"].as<std::string>());
    expected.width = p["width"].as<int>();
    expected.height = p["height"].as<int>();
    expected.fps = p["fps"].as<int>();
    std::tie(expected.audio_codec, expected.audio_rate) =
        FfprobeAudio(p["audio"].as<std::string>("none"));
    if (stream["listeners"]) {
      for (const YAML::Node& name : stream["listeners"]) {
        expected.listener_indexes.push_back(listener_index.at(name.as<std::string>()));
      }
    } else {
      for (int i = 0; i < kPorts; ++i) expected.listener_indexes.push_back(i);
    }
    streams.push_back(expected);
  }
  return streams;
}

// What ffprobe reported about one URL.
struct Probe {
  YAML::Node video;  // the stream entries of ffprobe's JSON
  YAML::Node audio;
  int streams = 0;
  std::vector<int64_t> video_pts;  // in the 1/90000 time base
};

Probe RunFfprobe(const std::string& url) {
  // `timeout` bounds a hung probe. -read_intervals %+#100 reads 100 packets
  // (1-10 s of these real-time streams: /cam4 sends 10 video frames a
  // second and nothing else) for the timestamp check: a count, because a
  // time interval is measured from the first packet of any stream, and the
  // RTCP re-timing described above can put all video beyond it.
  const std::string command = absl::StrCat(
      "timeout 30 /usr/bin/ffprobe -v error -rtsp_transport tcp -read_intervals %+#100 "
      "-show_entries "
      "stream=index,codec_type,codec_name,width,height,r_frame_rate,avg_frame_rate,sample_rate,"
      "time_base"
      ":packet=stream_index,pts -of json '",
      url, "' 2>&1");
  auto [output, status] = RunShell(command);
  Probe probe;
  EXPECT_EQ(status, 0) << command << "\n" << output;
  if (status != 0) return probe;
  YAML::Node json = YAML::Load(output);  // JSON is YAML
  int video_index = -1;
  for (const YAML::Node& stream : json["streams"]) {
    ++probe.streams;
    if (stream["codec_type"].as<std::string>() == "video") {
      probe.video = stream;
      video_index = stream["index"].as<int>();
    } else if (stream["codec_type"].as<std::string>() == "audio") {
      probe.audio = stream;
    }
  }
  for (const YAML::Node& packet : json["packets"]) {
    if (packet["stream_index"].as<int>() == video_index && packet["pts"]) {
      probe.video_pts.push_back(packet["pts"].as<int64_t>());
    }
  }
  return probe;
}

// Frames per second from the median spacing of distinct video timestamps.
double MeasuredFps(const std::vector<int64_t>& pts) {
  std::vector<int64_t> deltas;
  for (size_t i = 1; i < pts.size(); ++i) {
    if (pts[i] > pts[i - 1]) deltas.push_back(pts[i] - pts[i - 1]);
  }
  if (deltas.size() < 5) return 0;
  std::nth_element(deltas.begin(), deltas.begin() + deltas.size() / 2, deltas.end());
  return 90000.0 / static_cast<double>(deltas[deltas.size() / 2]);
}

std::vector<ExpectedStream>* expectations = nullptr;
std::vector<int>* ports = nullptr;
ServerProcess* server = nullptr;

class DefaultConfigServer : public ::testing::Environment {
 public:
  void SetUp() override {
    expectations =
        new std::vector<ExpectedStream>(LoadExpectations(RunfilePath("config/default.yaml")));
    ports = new std::vector<int>;
    for (int i = 0; i < kPorts; ++i) ports->push_back(0);  // the kernel picks
    server = new ServerProcess();
    ASSERT_TRUE(
        server
            ->Start({absl::StrCat("--config=", RunfilePath("config/default.yaml")),
                     absl::StrCat("--rtsp_ports=", absl::StrJoin(*ports, ",")), "--bind=127.0.0.1"})
            .ok())
        << server->output();
    for (int port : *ports)
      ASSERT_EQ(server->port(absl::StrCat("rtsp-", port)), port) << server->output();
  }
  void TearDown() override {
    EXPECT_TRUE(server->IsRunning()) << server->output();
    absl::StatusOr<int> exit_code = server->Stop(SIGTERM);
    EXPECT_TRUE(exit_code.ok() && *exit_code == 0) << server->output();
    delete server;
    delete ports;
    delete expectations;
  }
};

const ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new DefaultConfigServer);

TEST(DefaultConfigTest, ShipsH264H265MjpegAndAStreamWithAudio) {
  ASSERT_EQ(expectations->size(), static_cast<size_t>(kStreamsInDefaultConfig));
  std::set<std::string> codecs;
  bool audio = false;
  for (const ExpectedStream& stream : *expectations) {
    codecs.insert(stream.video_codec);
    audio |= !stream.audio_codec.empty();
  }
  EXPECT_EQ(codecs, (std::set<std::string>{"h264", "hevc", "mjpeg"}));
  EXPECT_TRUE(audio);
}

class FfprobeDefaultConfigTest : public ::testing::TestWithParam<int> {};

TEST_P(FfprobeDefaultConfigTest, ReportsConfiguredCodecResolutionAndFrameRateOnEachPort) {
  ASSERT_LT(static_cast<size_t>(GetParam()), expectations->size());
  const ExpectedStream& expected = (*expectations)[GetParam()];
  // Every port at once: one shared media serves them all.
  std::vector<Probe> probes(kPorts);
  std::vector<std::thread> probers;
  for (int index : expected.listener_indexes) {
    const std::string url = server->url(absl::StrCat("rtsp-ephemeral-", index), expected.path);
    probers.emplace_back([&probes, index, url] {
      probes[index] = RunFfprobe(url);
      // ffmpeg sometimes holds a joining reader's video back (while it lines
      // streams up by RTCP) past the packet budget, on a loaded machine. A
      // probe with too few video packets to measure says nothing either way;
      // it is repeated once, and a second starved probe fails the test.
      if (MeasuredFps(probes[index].video_pts) == 0) probes[index] = RunFfprobe(url);
    });
  }
  for (std::thread& prober : probers) {
    if (prober.joinable()) prober.join();
  }

  for (int index = 0; index < kPorts; ++index) {
    const std::string url = server->url(absl::StrCat("rtsp-ephemeral-", index), expected.path);
    SCOPED_TRACE(url);
    const bool served =
        std::count(expected.listener_indexes.begin(), expected.listener_indexes.end(), index) > 0;
    if (!served) {
      // Not configured on this port: not found there.
      RtspClient client(url);
      ASSERT_TRUE(client.Connect(absl::Seconds(10)).ok());
      absl::StatusOr<RtspResponse> describe = client.Describe(absl::Seconds(10));
      ASSERT_FALSE(describe.ok());
      EXPECT_NE(describe.status().message().find("404"), absl::string_view::npos)
          << describe.status();
      continue;
    }
    const Probe& probe = probes[index];
    ASSERT_TRUE(probe.video) << "no video stream";
    EXPECT_EQ(probe.streams, expected.audio_codec.empty() ? 1 : 2);
    EXPECT_EQ(probe.video["codec_name"].as<std::string>(), expected.video_codec);
    EXPECT_EQ(probe.video["width"].as<int>(), expected.width);
    EXPECT_EQ(probe.video["height"].as<int>(), expected.height);
    EXPECT_EQ(probe.video["time_base"].as<std::string>(), "1/90000");
    EXPECT_DOUBLE_EQ(MeasuredFps(probe.video_pts), expected.fps)
        << "video pts: " << absl::StrJoin(probe.video_pts, " ")
        << "\nffprobe r_frame_rate=" << probe.video["r_frame_rate"].as<std::string>()
        << " avg_frame_rate=" << probe.video["avg_frame_rate"].as<std::string>();
    if (!expected.audio_codec.empty()) {
      ASSERT_TRUE(probe.audio) << "no audio stream";
      EXPECT_EQ(probe.audio["codec_name"].as<std::string>(), expected.audio_codec);
      EXPECT_EQ(probe.audio["sample_rate"].as<std::string>(), std::to_string(expected.audio_rate));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(DefaultYamlStreams, FfprobeDefaultConfigTest,
                         ::testing::Range(0, kStreamsInDefaultConfig));

}  // namespace
}  // namespace rtsptest::testing
