// PrivateFontCache against fontconfig's own reading of its configuration.
// Each test points FONTCONFIG_FILE at a configuration of its own, so that
// the machine's cache directories (writable or not) play no part.
#include "server/font_cache/font_cache.h"

#include <fontconfig/fontconfig.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace rtsptest::server {
namespace {

std::string TempPath(const std::string& name) { return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name); }

// Writes a fontconfig configuration with one cache directory and returns
// its path.
std::string WriteFontsConf(const std::string& name, const std::string& cache_dir) {
  std::string path = TempPath(name);
  std::ofstream(path) << "<?xml version=\"1.0\"?>\n<fontconfig>\n  <cachedir>" << cache_dir
                      << "</cachedir>\n</fontconfig>\n";
  return path;
}

// The cache directories fontconfig would use now.
std::vector<std::string> CacheDirs() {
  std::vector<std::string> dirs;
  FcConfig* config = FcInitLoadConfig();
  FcStrList* list = FcConfigGetCacheDirs(config);
  while (FcChar8* dir = FcStrListNext(list)) dirs.emplace_back(reinterpret_cast<const char*>(dir));
  FcStrListDone(list);
  FcConfigDestroy(config);
  return dirs;
}

class PrivateFontCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("TMPDIR", std::getenv("TEST_TMPDIR"), 1); }
  void TearDown() override { unsetenv("FONTCONFIG_FILE"); }
};

TEST_F(PrivateFontCacheTest, AddsAPrivateCacheDirectoryWhenNoneIsWritable) {
  // A cache directory under a regular file can be created by nobody.
  std::ofstream(TempPath("regular_file")) << "";
  const std::string original = WriteFontsConf("unwritable.conf", TempPath("regular_file/cache"));
  setenv("FONTCONFIG_FILE", original.c_str(), 1);

  absl::StatusOr<std::unique_ptr<PrivateFontCache>> cache = PrivateFontCache::SetUpIfNeeded();
  ASSERT_TRUE(cache.ok()) << cache.status();
  ASSERT_NE(*cache, nullptr);
  const std::string dir = (*cache)->dir();
  EXPECT_TRUE(absl::StartsWith(dir, TempPath("rtsp_test_server-fonts-"))) << dir;
  EXPECT_EQ(std::string(std::getenv("FONTCONFIG_FILE")), dir + "/fonts.conf");
  // The original configuration is included, the private directory comes last.
  EXPECT_EQ(CacheDirs(), (std::vector<std::string>{TempPath("regular_file/cache"), dir}));

  cache->reset();
  struct stat st;
  EXPECT_NE(stat(dir.c_str(), &st), 0) << dir << " still exists";
}

TEST_F(PrivateFontCacheTest, ChangesNothingWhenACacheDirectoryIsWritable) {
  const std::string writable = TempPath("writable_cache");
  mkdir(writable.c_str(), 0755);
  const std::string original = WriteFontsConf("writable.conf", writable);
  setenv("FONTCONFIG_FILE", original.c_str(), 1);

  absl::StatusOr<std::unique_ptr<PrivateFontCache>> cache = PrivateFontCache::SetUpIfNeeded();
  ASSERT_TRUE(cache.ok()) << cache.status();
  EXPECT_EQ(*cache, nullptr);
  EXPECT_EQ(std::string(std::getenv("FONTCONFIG_FILE")), original);
}

}  // namespace
}  // namespace rtsptest::server
