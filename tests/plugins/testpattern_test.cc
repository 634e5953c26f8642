// Tests of libtestpattern.so: every video codec with and without the overlay,
// every audio codec, and the checks on parameter combinations.
#include <gst/gst.h>

#include <memory>
#include <string>
#include <tuple>

#include "gtest/gtest.h"
#include "tests/plugins/plugin_test_util.h"

namespace rtsptest {
namespace testing {
namespace {

std::unique_ptr<LoadedPlugin> LoadTestpattern() {
  std::string error;
  auto plugin = LoadedPlugin::Load("testpattern", &error);
  EXPECT_NE(plugin, nullptr) << error;
  return plugin;
}

class TestpatternVideoTest : public ::testing::TestWithParam<std::tuple<std::string, bool>> {};

TEST_P(TestpatternVideoTest, DecodesAtRequestedSize) {
  const auto& [codec, overlay] = GetParam();
  auto plugin = LoadTestpattern();
  ASSERT_NE(plugin, nullptr);
  std::string error;
  GstElement* bin = plugin->Create({{"codec", codec},
                                    {"width", "320"},
                                    {"height", "240"},
                                    {"gop", "10"},
                                    {"overlay", overlay ? "true" : "false"}},
                                   &error);
  ASSERT_NE(bin, nullptr) << error;
  DecodeResult result = DecodeStreams(bin, DecodeOptions{});
  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.streams.size(), 1u);
  EXPECT_EQ(result.streams[0].media, "video");
  EXPECT_EQ(result.streams[0].width, 320);
  EXPECT_EQ(result.streams[0].height, 240);
}

INSTANTIATE_TEST_SUITE_P(Codecs, TestpatternVideoTest,
                         ::testing::Combine(::testing::Values("h264", "h265", "mjpeg"),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           return std::get<0>(info.param) +
                                  (std::get<1>(info.param) ? "_overlay" : "_plain");
                         });

class TestpatternAudioTest : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(TestpatternAudioTest, DecodesToneOnPay1) {
  const auto& [codec, rate] = GetParam();
  auto plugin = LoadTestpattern();
  ASSERT_NE(plugin, nullptr);
  std::string error;
  GstElement* bin = plugin->Create({{"width", "160"},
                                    {"height", "120"},
                                    {"overlay", "false"},
                                    {"audio", codec},
                                    {"audio_freq_hz", "1000"}},
                                   &error);
  ASSERT_NE(bin, nullptr) << error;
  DecodeResult result = DecodeStreams(bin, DecodeOptions{});
  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.streams.size(), 2u);
  EXPECT_EQ(result.streams[0].width, 160);
  EXPECT_EQ(result.streams[1].media, "audio");
  EXPECT_EQ(result.streams[1].rate, rate);
}

INSTANTIATE_TEST_SUITE_P(Codecs, TestpatternAudioTest,
                         ::testing::Values(std::make_tuple("opus", 48000),
                                           std::make_tuple("pcmu", 8000),
                                           std::make_tuple("pcma", 8000),
                                           std::make_tuple("aac", 48000)),
                         [](const auto& info) { return std::get<0>(info.param); });

TEST(TestpatternPluginTest, NamesPayloadersPay0AndPay1) {
  auto plugin = LoadTestpattern();
  ASSERT_NE(plugin, nullptr);
  std::string error;
  GstElement* bin = plugin->Create({{"audio", "opus"}}, &error);
  ASSERT_NE(bin, nullptr) << error;
  EXPECT_TRUE(g_object_is_floating(bin) == FALSE);  // Sunk by the helper.
  for (const char* name : {"pay0", "pay1"}) {
    GstElement* pay = gst_bin_get_by_name(GST_BIN(bin), name);
    EXPECT_NE(pay, nullptr) << name;
    if (pay != nullptr) gst_object_unref(pay);
  }
  gst_object_unref(bin);
}

TEST(TestpatternPluginTest, RejectsOddSizeForH264) {
  auto plugin = LoadTestpattern();
  ASSERT_NE(plugin, nullptr);
  std::string error;
  EXPECT_EQ(plugin->Create({{"width", "321"}, {"height", "240"}}, &error), nullptr);
  EXPECT_EQ(error,
            "parameter width=321 height=240: codec h264 needs even width and "
            "height");
}

TEST(TestpatternPluginTest, RejectsMjpegLargerThanRtpJpegAllows) {
  auto plugin = LoadTestpattern();
  ASSERT_NE(plugin, nullptr);
  std::string error;
  EXPECT_EQ(plugin->Create({{"codec", "mjpeg"}, {"width", "3840"}, {"height", "2160"}}, &error),
            nullptr);
  EXPECT_EQ(error,
            "parameter width=3840 height=2160: codec mjpeg (RTP/JPEG) allows "
            "at most 2040x2040");
}

}  // namespace
}  // namespace testing
}  // namespace rtsptest
