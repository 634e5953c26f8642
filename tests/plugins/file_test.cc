// Tests of libfile.so on the clips that //plugins/builtin/file/testdata generates:
// every container decodes at its size and rate, timestamps increase strictly
// across loop points, and bad files fail with a clear message.
#include <gst/gst.h>

#include <memory>
#include <string>
#include <tuple>

#include "gtest/gtest.h"
#include "tests/plugins/plugin_test_util.h"

namespace rtsptest {
namespace testing {
namespace {

// The clips are 3 s at 30 fps: 90 frames per loop.
constexpr int kFramesPerLoop = 90;

std::string Clip(const std::string& name) {
  return RunfilePath("plugins/builtin/file/testdata/" + name);
}

class FilePluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    plugin_ = LoadedPlugin::Load("file", &error);
    ASSERT_NE(plugin_, nullptr) << error;
  }
  std::unique_ptr<LoadedPlugin> plugin_;
};

class FileClipTest
    : public FilePluginTest,
      public ::testing::WithParamInterface<std::tuple<std::string, std::string, std::string>> {};

TEST_P(FileClipTest, DecodesVideoAndAudio) {
  const auto& [clip, video_pay, audio_pay] = GetParam();
  std::string error;
  GstElement* bin = plugin_->Create({{"location", Clip(clip)}}, &error);
  ASSERT_NE(bin, nullptr) << error;
  DecodeResult result = DecodeStreams(bin, DecodeOptions{});
  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.streams.size(), 2u);
  EXPECT_EQ(result.streams[0].payloader, video_pay);
  EXPECT_EQ(result.streams[0].width, 320);
  EXPECT_EQ(result.streams[0].height, 240);
  EXPECT_EQ(result.streams[1].payloader, audio_pay);
  EXPECT_EQ(result.streams[1].rate, 48000);
}

INSTANTIATE_TEST_SUITE_P(
    Clips, FileClipTest,
    ::testing::Values(std::make_tuple("h264_aac.mp4", "rtph264pay", "rtpmp4gpay"),
                      std::make_tuple("h265_opus.mkv", "rtph265pay", "rtpopuspay"),
                      std::make_tuple("h264_aac.ts", "rtph264pay", "rtpmp4gpay")),
    [](const auto& info) {
      std::string name = std::get<0>(info.param);
      for (char& c : name) {
        if (c == '.') c = '_';
      }
      return name;
    });

// Plays a clip past two loop points; every buffer entering a payloader must
// have a PTS greater than the one before, in both streams.
void ExpectMonotonicAcrossTwoLoops(LoadedPlugin& plugin, const std::string& clip) {
  std::string error;
  GstElement* bin = plugin.Create({{"location", Clip(clip)}}, &error);
  ASSERT_NE(bin, nullptr) << error;
  DecodeOptions options;
  options.min_samples = 2 * kFramesPerLoop + 20;
  options.timeout = 30 * GST_SECOND;
  DecodeResult result = DecodeStreams(bin, options);
  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_GE(result.streams[0].pay_input_pts.size(), static_cast<size_t>(2 * kFramesPerLoop + 1));
  for (const DecodedStream& stream : result.streams) {
    const auto& pts = stream.pay_input_pts;
    for (size_t i = 1; i < pts.size(); ++i) {
      ASSERT_TRUE(GST_CLOCK_TIME_IS_VALID(pts[i])) << stream.payloader << i;
      ASSERT_GT(pts[i], pts[i - 1]) << stream.payloader << ": buffer " << i << " of " << pts.size();
    }
  }
}

TEST_F(FilePluginTest, TimestampsIncreaseAcrossLoopPointsMp4) {
  ExpectMonotonicAcrossTwoLoops(*plugin_, "h264_aac.mp4");
}

TEST_F(FilePluginTest, TimestampsIncreaseAcrossLoopPointsMkv) {
  ExpectMonotonicAcrossTwoLoops(*plugin_, "h265_opus.mkv");
}

TEST_F(FilePluginTest, EndsAtEndOfFileWithoutLoop) {
  std::string error;
  GstElement* bin =
      plugin_->Create({{"location", Clip("h264_aac.mp4")}, {"loop", "false"}}, &error);
  ASSERT_NE(bin, nullptr) << error;
  DecodeOptions options;
  options.min_samples = 10 * kFramesPerLoop;  // More than one pass has.
  options.timeout = 20 * GST_SECOND;
  DecodeResult result = DecodeStreams(bin, options);
  EXPECT_EQ(result.error, "unexpected EOS");
  EXPECT_GT(result.streams[0].samples, kFramesPerLoop / 2);
  EXPECT_LE(result.streams[0].samples, kFramesPerLoop);
}

TEST_F(FilePluginTest, RejectsMissingFile) {
  std::string error;
  EXPECT_EQ(plugin_->Create({{"location", "/nonexistent/clip.mp4"}}, &error), nullptr);
  EXPECT_EQ(error, "file /nonexistent/clip.mp4: no such file");
}

TEST_F(FilePluginTest, RejectsUnsupportedCodec) {
  // A VP8 WebM, made here: the plugin only forwards H.264/H.265.
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/vp8.webm";
  GError* gerror = nullptr;
  GstElement* writer =
      gst_parse_launch(("videotestsrc num-buffers=10 ! video/x-raw,width=64,height=48 ! "
                        "vp8enc ! webmmux ! filesink location=" +
                        path)
                           .c_str(),
                       &gerror);
  ASSERT_EQ(gerror, nullptr) << gerror->message;
  gst_element_set_state(writer, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(writer);
  GstMessage* done = gst_bus_timed_pop_filtered(
      bus, 10 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(GST_MESSAGE_TYPE(done), GST_MESSAGE_EOS);
  gst_message_unref(done);
  gst_object_unref(bus);
  gst_element_set_state(writer, GST_STATE_NULL);
  gst_object_unref(writer);

  std::string error;
  EXPECT_EQ(plugin_->Create({{"location", path}}, &error), nullptr);
  EXPECT_EQ(error, "file " + path +
                       ": unsupported video codec video/x-vp8 (supported: "
                       "H.264, H.265)");
}

}  // namespace
}  // namespace testing
}  // namespace rtsptest
