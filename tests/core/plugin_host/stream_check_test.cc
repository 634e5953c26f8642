// Specs for CheckStreams (--check_config): each configured stream built once
// against a real fixture plugin.
#include "core/plugin_host/stream_check.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/plugin_host/plugin_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::core {
namespace server {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::StartsWith;

std::string FixtureDir() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".",
                      "/rtsp_test_server/tests/core/plugin_host/fixtures");
}

config::v1::Stream* AddStream(config::v1::ServerConfig* config, const std::string& path,
                              const std::string& plugin) {
  config::v1::Stream* stream = config->add_streams();
  stream->set_path(path);
  stream->set_plugin(plugin);
  return stream;
}

TEST(StreamCheckTest, StreamsThatBuildGiveNoErrors) {
  config::v1::ServerConfig config;
  AddStream(&config, "/a", "good");
  (*AddStream(&config, "/b", "good")->mutable_parameters())["fps"] = "25";
  PluginLoader loader({FixtureDir()});
  EXPECT_THAT(CheckStreams(config, loader), IsEmpty());
}

TEST(StreamCheckTest, NoStreamsGiveNoErrors) {
  PluginLoader loader({FixtureDir()});
  EXPECT_THAT(CheckStreams(config::v1::ServerConfig(), loader), IsEmpty());
}

TEST(StreamCheckTest, ReportsEachFailingStreamOnceInConfigOrder) {
  config::v1::ServerConfig config;
  (*AddStream(&config, "/bad_param", "good")->mutable_parameters())["fps"] = "500";
  AddStream(&config, "/fine", "good");
  AddStream(&config, "/missing", "nosuch");
  AddStream(&config, "/unplugged", "create_fails");
  PluginLoader loader({FixtureDir()});
  std::vector<std::string> errors = CheckStreams(config, loader);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_THAT(errors[0], StartsWith("stream /bad_param: "));
  EXPECT_THAT(errors[1], StartsWith("stream /missing: plugin nosuch: "));
  EXPECT_THAT(errors[2], StartsWith("stream /unplugged: "));
  // The prefix is never doubled when the plugin's message already has it.
  for (const std::string& error : errors) {
    EXPECT_EQ(error.find("stream ", 1), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace server
}  // namespace rtsptest::core
