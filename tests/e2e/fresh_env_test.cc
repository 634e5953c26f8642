// Fresh environments: a machine or container where nothing could be cached
// yet and nothing can be written where caches usually go (no system font
// cache, a HOME that cannot be written, no XDG_CACHE_HOME). The server must
// still print nothing but JSON log lines on stdout and nothing on stderr
// while its text overlays run (testpattern overlay=true: textoverlay and
// clockoverlay render through pango, which initialises fontconfig, which
// used to print "Fontconfig error: No writable cache directories").
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

using tools::RtspClient;
using tools::Transport;

constexpr absl::Duration kStepTimeout = absl::Seconds(10);

constexpr char kConfig[] = R"yaml(
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
streams:
  - {path: /cam, plugin: testpattern, parameters: {codec: h264, width: 320, height: 240, fps: 10, gop: 10, overlay: true}}
drain_timeout: 0s
)yaml";

std::string TempPath(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

// A new directory under $TEST_TMPDIR with `mode`.
std::string MakeDir(const std::string& name, mode_t mode) {
  std::string path = TempPath(name);
  mkdir(path.c_str(), 0755);
  chmod(path.c_str(), mode);
  return path;
}

// Starts `server`, plays /cam for a second (so the overlays have rendered
// frames), stops it with SIGTERM and checks that it printed only JSON.
void ExpectOnlyJsonWhileServingOverlays(ServerProcess& server) {
  ASSERT_TRUE(server.StartWithConfig(kConfig).ok()) << server.output();
  RtspClient reader(server.url("a", "/cam"));
  ASSERT_TRUE(reader.Connect(kStepTimeout).ok());
  ASSERT_TRUE(reader.Describe(kStepTimeout).ok()) << server.output();
  ASSERT_TRUE(reader.SetupAll(Transport::kTcpInterleaved, kStepTimeout).ok());
  ASSERT_TRUE(reader.Play(kStepTimeout).ok());
  absl::StatusOr<int64_t> packets = reader.ReadMedia(absl::Seconds(1));
  ASSERT_TRUE(packets.ok()) << packets.status();
  EXPECT_GT(*packets, 0);
  reader.Close();

  absl::StatusOr<int> exit_code = server.Stop(SIGTERM);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << server.output();
  EXPECT_EQ(server.error_output(), "");
  const std::string all = server.output();
  absl::string_view output = all;
  ASSERT_TRUE(absl::ConsumeSuffix(&output, "<eof>"));
  for (absl::string_view line : absl::StrSplit(output, '\n', absl::SkipEmpty())) {
    EXPECT_TRUE(IsJsonLogLine(line)) << line;
  }
}

TEST(FreshEnvTest, ReadOnlyHomeWithoutXdgCacheHomeLogsOnlyJson) {
  const std::string home = MakeDir("read_only_home", 0555);
  ServerProcess server;
  server.SetEnv("HOME", home);
  server.UnsetEnv("XDG_CACHE_HOME");
  server.UnsetEnv("FONTCONFIG_FILE");
  if (CanMountPrivately()) {
    // Read-only for root too, and a fresh machine's empty system font cache
    // (which root could otherwise write, and which may hold valid caches).
    server.AddReadOnlyBindMount(home, home);
    struct stat st;
    if (stat("/var/cache/fontconfig", &st) == 0) {
      server.AddReadOnlyBindMount(MakeDir("empty_system_font_cache", 0755),
                                  "/var/cache/fontconfig");
    }
  } else if (geteuid() == 0) {
    GTEST_SKIP() << "root without a private mount namespace cannot be given a read-only HOME";
  }
  ExpectOnlyJsonWhileServingOverlays(server);
}

// The same, made certain whatever the user and the sandbox: a fontconfig
// configuration whose only cache directory cannot exist (it lies under a
// regular file), so that fontconfig must scan the fonts and has nowhere to
// write the result.
TEST(FreshEnvTest, FontconfigWithoutAWritableCacheDirectoryLogsOnlyJson) {
  const std::string not_a_dir = WriteTempFile("not_a_directory", "");
  const std::string fonts_conf = WriteTempFile(
      "fonts.conf",
      absl::StrCat("<?xml version=\"1.0\"?>\n<fontconfig>\n  <dir>/usr/share/fonts</dir>\n"
                   "  <cachedir>",
                   not_a_dir, "/cache</cachedir>\n</fontconfig>\n"));
  ServerProcess server;
  server.SetEnv("FONTCONFIG_FILE", fonts_conf);
  ExpectOnlyJsonWhileServingOverlays(server);
}

}  // namespace
}  // namespace rtsptest::testing
