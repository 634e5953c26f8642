// Tests of libpipeline.so: a good description streams, bad ones fail with
// the exact message a user sees.
#include <gst/gst.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tests/plugins/plugin_test_util.h"

namespace rtsptest {
namespace testing {
namespace {

class PipelinePluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    plugin_ = LoadedPlugin::Load("pipeline", &error);
    ASSERT_NE(plugin_, nullptr) << error;
  }
  std::unique_ptr<LoadedPlugin> plugin_;
};

TEST_F(PipelinePluginTest, StreamsGoodDescription) {
  std::string error;
  GstElement* bin =
      plugin_->Create({{"description",
                        "videotestsrc is-live=true ! video/x-raw,width=320,height=240 ! "
                        "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! "
                        "rtph264pay name=pay0 pt=96 config-interval=-1 "
                        "audiotestsrc is-live=true ! audioconvert ! audioresample ! "
                        "mulawenc ! rtppcmupay name=pay1"}},
                      &error);
  ASSERT_NE(bin, nullptr) << error;
  DecodeResult result = DecodeStreams(bin, DecodeOptions{});
  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.streams.size(), 2u);
  EXPECT_EQ(result.streams[0].width, 320);
  EXPECT_EQ(result.streams[0].height, 240);
  EXPECT_EQ(result.streams[1].rate, 8000);
}

TEST_F(PipelinePluginTest, RejectsUnknownElement) {
  std::string error;
  EXPECT_EQ(plugin_->Create({{"description", "videotestsrc ! foo ! rtph264pay name=pay0"}}, &error),
            nullptr);
  EXPECT_EQ(error, "pipeline description: no element \"foo\"");
}

TEST_F(PipelinePluginTest, RejectsDescriptionWithoutPay0) {
  std::string error;
  EXPECT_EQ(
      plugin_->Create({{"description", "videotestsrc ! x264enc ! rtph264pay name=pay1"}}, &error),
      nullptr);
  EXPECT_EQ(error,
            "pipeline description: no element named \"pay0\" (name the RTP "
            "payloaders pay0, pay1, ...)");
}

TEST_F(PipelinePluginTest, RejectsSyntaxError) {
  std::string error;
  EXPECT_EQ(plugin_->Create({{"description", "videotestsrc ! ! fakesink"}}, &error), nullptr);
  EXPECT_EQ(error.rfind("pipeline description: ", 0), 0u) << error;
}

TEST_F(PipelinePluginTest, RejectsEmptyDescription) {
  std::string error;
  EXPECT_EQ(plugin_->Create({{"description", ""}}, &error), nullptr);
  EXPECT_EQ(error, "pipeline description: empty");
}

}  // namespace
}  // namespace testing
}  // namespace rtsptest
