// Tests of the example out-of-tree plugin libsolid.so: it streams decodable
// H.264 through the same ABI as the built-in plugins.
#include <string>

#include "gtest/gtest.h"
#include "tests/plugins/plugin_test_util.h"

namespace rtsptest {
namespace testing {
namespace {

TEST(SolidExamplePluginTest, StreamsRequestedColour) {
  std::string error;
  auto plugin = LoadedPlugin::LoadFrom("plugins/examples/minimal/libsolid.so", &error);
  ASSERT_NE(plugin, nullptr) << error;
  GstElement* bin = plugin->Create({{"color", "green"}}, &error);
  ASSERT_NE(bin, nullptr) << error;
  DecodeResult result = DecodeStreams(bin, DecodeOptions{});
  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.streams.size(), 1u);
  EXPECT_EQ(result.streams[0].width, 320);
  EXPECT_EQ(result.streams[0].height, 240);
}

}  // namespace
}  // namespace testing
}  // namespace rtsptest
