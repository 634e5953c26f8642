// EnsureWritableFontCache against fontconfig's own reading of its
// configuration.
// Each test points FONTCONFIG_FILE at a configuration of its own, so that
// the machine's cache directories (writable or not) play no part.
#include "core/font_cache/font_cache.h"

#include <fontconfig/fontconfig.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace rtsptest::core {
namespace {

std::string TempPath(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

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

class EnsureWritableFontCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const std::string& dir : temp_dirs_) mkdir(dir.c_str(), 0755);
  }
  void TearDown() override { unsetenv("FONTCONFIG_FILE"); }
  const std::vector<std::string> temp_dirs_ = {TempPath("tmp1"), TempPath("tmp2")};
  const std::string own_dir_ = absl::StrCat(temp_dirs_[0], "/rtsp_test_server-fonts-", geteuid());
};

TEST_F(EnsureWritableFontCacheTest, AddsItsOwnCacheDirectoryWhenNoneIsWritable) {
  // A cache directory under a regular file can be created by nobody.
  std::ofstream(TempPath("regular_file")) << "";
  const std::string original = WriteFontsConf("unwritable.conf", TempPath("regular_file/cache"));
  setenv("FONTCONFIG_FILE", original.c_str(), 1);

  absl::StatusOr<std::string> dir = EnsureWritableFontCache(temp_dirs_);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(*dir, own_dir_);
  const std::string file = std::getenv("FONTCONFIG_FILE");
  EXPECT_TRUE(absl::StartsWith(file, own_dir_ + "/fonts-")) << file;
  // The original configuration is included, our directory comes last.
  EXPECT_EQ(CacheDirs(), (std::vector<std::string>{TempPath("regular_file/cache"), own_dir_}));
  struct stat st;
  ASSERT_EQ(stat(own_dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  // The next start finds the same directory and file (the caches persist).
  setenv("FONTCONFIG_FILE", original.c_str(), 1);
  dir = EnsureWritableFontCache(temp_dirs_);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(*dir, own_dir_);
  EXPECT_EQ(std::string(std::getenv("FONTCONFIG_FILE")), file);
}

TEST_F(EnsureWritableFontCacheTest, ChangesNothingWhenACacheDirectoryIsWritable) {
  const std::string writable = TempPath("writable_cache");
  mkdir(writable.c_str(), 0755);
  const std::string original = WriteFontsConf("writable.conf", writable);
  setenv("FONTCONFIG_FILE", original.c_str(), 1);

  absl::StatusOr<std::string> dir = EnsureWritableFontCache(temp_dirs_);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(*dir, "");
  EXPECT_EQ(std::string(std::getenv("FONTCONFIG_FILE")), original);
}

// The directory's name is predictable: one that another user could write is
// not used.
TEST_F(EnsureWritableFontCacheTest, RefusesADirectoryOthersMayWrite) {
  std::ofstream(TempPath("regular_file")) << "";
  const std::string original = WriteFontsConf("unwritable2.conf", TempPath("regular_file/cache"));
  setenv("FONTCONFIG_FILE", original.c_str(), 1);
  mkdir(own_dir_.c_str(), 0700);
  chmod(own_dir_.c_str(), 0777);

  absl::StatusOr<std::string> dir = EnsureWritableFontCache(temp_dirs_);
  chmod(own_dir_.c_str(), 0700);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(*dir, absl::StrCat(temp_dirs_[1], "/rtsp_test_server-fonts-", geteuid()));
}

}  // namespace
}  // namespace rtsptest::core
