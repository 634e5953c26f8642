// Specs for WritePluginCatalog (--list_plugins) against real fixture plugins.
#include "core/plugin_host/plugin_catalog.h"

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/plugin_host/plugin_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rtsptest::core {
namespace server {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string FixturePath(const std::string& name) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".",
                      "/rtsp_test_server/tests/core/plugin_host/fixtures/lib", name, ".so");
}

// A fresh directory under TEST_TMPDIR holding copies of `fixtures`.
std::string DirWith(std::initializer_list<std::string> fixtures) {
  std::string dir = absl::StrCat(std::getenv("TEST_TMPDIR"), "/",
                                 testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const std::string& name : fixtures) {
    std::filesystem::copy_file(FixturePath(name), absl::StrCat(dir, "/lib", name, ".so"));
  }
  return dir;
}

TEST(PluginCatalogTest, ListsEveryParameterWithTypeRangeDefaultAndHelp) {
  std::string dir = DirWith({"good"});
  PluginLoader loader({dir});
  std::ostringstream out;
  EXPECT_TRUE(WritePluginCatalog(loader, out));
  EXPECT_EQ(out.str(), absl::StrCat("good 1.0.0 (", dir,
                                    "/libgood.so)\n"
                                    "  Loader test fixture: a valid plugin\n"
                                    "  width (int: 16..4096, default 320)  frame width\n"
                                    "  height (int: 16..4096, default 240)  frame height\n"
                                    "  fps (int: 1..120, default 30)  frames per second\n"
                                    "  codec (enum: h264|h265|mjpeg, default h264)  unused here\n"
                                    "  speed (double: 0.25..4, default 1.0)  unused here\n"
                                    "  live (bool, default yes)  live source\n"
                                    "  title (string, default )  unused here\n"
                                    "\n"));
}

TEST(PluginCatalogTest, ListsAPluginThatDoesNotLoadAsNotLoadable) {
  PluginLoader loader({DirWith({"good", "name_mismatch"})});
  std::ostringstream out;
  EXPECT_TRUE(WritePluginCatalog(loader, out));
  EXPECT_THAT(out.str(), StartsWith("good 1.0.0 ("));
  EXPECT_THAT(out.str(), HasSubstr("\nname_mismatch: NOT LOADABLE: plugin name_mismatch: "));
}

TEST(PluginCatalogTest, NoPluginsIsFalseAndNamesTheDirectories) {
  std::string dir = DirWith({});
  PluginLoader loader({dir, "/nonexistent"});
  std::ostringstream out;
  EXPECT_FALSE(WritePluginCatalog(loader, out));
  EXPECT_EQ(out.str(), absl::StrCat("no plugins found in: ", dir, ", /nonexistent\n"));
}

}  // namespace
}  // namespace server
}  // namespace rtsptest::core
