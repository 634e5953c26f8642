// The testpattern plugin's bitrate as a client receives it: with the default
// rate_control=cbr, every 10 s of media carry bitrate_kbps within ±15 % for
// busy and static patterns alike (filler data makes up what a static picture
// does not need), like a real camera in CBR mode; rate_control=vbr lets a
// static pattern send less.
//
// The source runs faster than real time (CaptureOptions::live = false) and
// the rate is measured over RTP timestamps, i.e. media time: encoders see
// only timestamps, so they produce what they would live, and the test does
// not take 12 s per case.
#include <gst/gst.h>

#include <cstdio>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "tests/plugins/plugin_test_util.h"
#include "tests/plugins/testpattern_test_util.h"

namespace rtsptest {
namespace testing {
namespace {

constexpr uint32_t kRtpClockRate = 90000;
constexpr uint32_t kWindowTicks = 10 * kRtpClockRate;

// The two streams of config/default.yaml that users measured.
struct RateCase {
  std::string stream;  // For messages and test names.
  std::string codec;
  int width;
  int height;
  int fps;
  int bitrate_kbps;
  int gop;
};

const RateCase kCam2 = {"cam2", "h265", 1280, 720, 25, 1500, 50};
const RateCase kLobby = {"lobby", "h264", 640, 360, 15, 600, 30};

void PrintTo(const RateCase& c, std::ostream* os) { *os << c.stream << " " << c.codec; }

// RTP payload bits per second over windows of 10 s of media.
struct WindowRates {
  double min_kbps = 0;
  double max_kbps = 0;
};

// Runs `c` with `pattern` (and `rate_control`, unless empty: the plugin's
// default) for `seconds` of media and measures every 10 s
// window that starts at a frame in the first seconds - 10 s. Payload bytes
// count, filler included; RTP/UDP/IP headers do not.
bool MeasureRates(const RateCase& c, const std::string& pattern, const std::string& rate_control,
                  int seconds, WindowRates* rates, std::string* error) {
  std::unique_ptr<LoadedPlugin> plugin = LoadedPlugin::Load("testpattern", error);
  if (plugin == nullptr) return false;
  std::map<std::string, std::string> params = {{"codec", c.codec},
                                               {"pattern", pattern},
                                               {"width", std::to_string(c.width)},
                                               {"height", std::to_string(c.height)},
                                               {"fps", std::to_string(c.fps)},
                                               {"bitrate_kbps", std::to_string(c.bitrate_kbps)},
                                               {"gop", std::to_string(c.gop)},
                                               {"overlay", "true"}};
  if (!rate_control.empty()) params["rate_control"] = rate_control;
  GstElement* bin = plugin->Create(params, error, "/" + c.stream);
  if (bin == nullptr) return false;
  CaptureOptions options;
  options.frames = seconds * c.fps;
  CaptureResult capture = CapturePay0(bin, options);
  if (!capture.ok) {
    *error = capture.error;
    return false;
  }
  std::vector<RtpFrame> frames;
  const VideoCodec codec = c.codec == "h264" ? VideoCodec::kH264 : VideoCodec::kH265;
  if (!DepayloadFrames(codec, capture.packets, &frames, error)) return false;
  if (frames.size() != static_cast<size_t>(options.frames)) {
    *error = "expected " + std::to_string(options.frames) + " frames, got " +
             std::to_string(frames.size());
    return false;
  }
  const uint32_t origin = frames.front().timestamp;
  bool first = true;
  for (size_t start = 0; start < frames.size(); ++start) {
    const uint32_t window_start = frames[start].timestamp - origin;
    const uint32_t last = frames.back().timestamp - origin;
    // Whole windows only: the last frame lasts one interval past its stamp.
    if (window_start + kWindowTicks > last + kRtpClockRate / c.fps) break;
    size_t bytes = 0;
    for (size_t i = start;
         i < frames.size() && frames[i].timestamp - origin - window_start < kWindowTicks; ++i) {
      bytes += frames[i].payload_bytes;
    }
    const double kbps = bytes * 8.0 / 10.0 / 1000.0;
    if (first || kbps < rates->min_kbps) rates->min_kbps = kbps;
    if (first || kbps > rates->max_kbps) rates->max_kbps = kbps;
    first = false;
  }
  if (first) {
    *error = "less than 10 s of media";
    return false;
  }
  return true;
}

class TestpatternCbrTest : public ::testing::TestWithParam<std::tuple<RateCase, std::string>> {};

TEST_P(TestpatternCbrTest, SendsTargetBitrateByDefaultWithin15PercentInEvery10sWindow) {
  const auto& [c, pattern] = GetParam();
  WindowRates rates;
  std::string error;
  // 12 s: windows starting anywhere in the first two seconds, the first key
  // frame and the encoder's start included.
  ASSERT_TRUE(MeasureRates(c, pattern, /*rate_control=*/"", 12, &rates, &error)) << error;
  std::printf("%s %s %s: 10 s windows %.1f..%.1f kbit/s (target %d)\n", c.stream.c_str(),
              c.codec.c_str(), pattern.c_str(), rates.min_kbps, rates.max_kbps, c.bitrate_kbps);
  EXPECT_GE(rates.min_kbps, 0.85 * c.bitrate_kbps);
  EXPECT_LE(rates.max_kbps, 1.15 * c.bitrate_kbps);
}

INSTANTIATE_TEST_SUITE_P(Patterns, TestpatternCbrTest,
                         ::testing::Combine(::testing::Values(kLobby, kCam2),
                                            ::testing::Values("smpte", "gradient", "black",
                                                              "ball")),
                         [](const auto& info) {
                           const RateCase& c = std::get<0>(info.param);
                           std::string pattern = std::get<1>(info.param);
                           return c.stream + "_" + c.codec + "_" + pattern;
                         });

class TestpatternVbrTest : public ::testing::TestWithParam<RateCase> {};

TEST_P(TestpatternVbrTest, SendsLessThanHalfTheTargetForABlackPicture) {
  const RateCase& c = GetParam();
  WindowRates rates;
  std::string error;
  ASSERT_TRUE(MeasureRates(c, "black", "vbr", 10, &rates, &error)) << error;
  std::printf("%s %s black vbr: %.1f kbit/s (target %d)\n", c.stream.c_str(), c.codec.c_str(),
              rates.max_kbps, c.bitrate_kbps);
  EXPECT_LT(rates.max_kbps, 0.5 * c.bitrate_kbps);
}

INSTANTIATE_TEST_SUITE_P(Codecs, TestpatternVbrTest, ::testing::Values(kLobby, kCam2),
                         [](const auto& info) {
                           return info.param.stream + "_" + info.param.codec;
                         });

}  // namespace
}  // namespace testing
}  // namespace rtsptest
