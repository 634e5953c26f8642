// The HTML status page ("/") rendered by headless Chromium (Debian
// `chromium`): the rendered DOM shows every stream with its URL and the
// health badge, and a screenshot is taken (a non-trivial PNG, kept in
// $TEST_UNDECLARED_OUTPUTS_DIR when Bazel provides it).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/gateway/gateway_test_util.h"

namespace rtsptest::testing {
namespace {

constexpr char kChromium[] = "/usr/bin/chromium";

constexpr char kConfig[] = R"yaml(
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
  - {name: b, bind_address: 127.0.0.1, port: 0}
streams:
  - {path: /front-door, plugin: testpattern, description: Front door <camera>, parameters: {codec: h264, width: 160, height: 120, fps: 5}}
  - {path: /parking, plugin: testpattern, description: Parking lot, listeners: [b], parameters: {codec: mjpeg, width: 160, height: 120, fps: 5}}
health: {probe_interval: 200ms, probe_timeout: 300ms}
drain_timeout: 0s
)yaml";

std::string TempDir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return tmp != nullptr ? tmp : "/tmp";
}

// Chromium with everything that would reach the network or the desktop
// turned off, and its profile and HOME in the test's temp dir.
ProgramResult RunChromium(const std::string& profile, const std::vector<std::string>& extra,
                          const std::string& url) {
  std::vector<std::string> args = {absl::StrCat("HOME=", TempDir()),
                                   kChromium,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-quic",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--disable-dev-shm-usage",
                                   absl::StrCat("--user-data-dir=", TempDir(), "/", profile)};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(url);
  return RunProgram("/usr/bin/env", args, absl::Seconds(60));
}

TEST(StatusPageChromiumTest, RenderedPageShowsStreamsAndHealth) {
  ASSERT_EQ(access(kChromium, X_OK), 0)
      << kChromium << " is missing: install Debian's `chromium` package (it is listed in "
      << "bazel/debian-packages.txt, so `make test` installs it).";
  ServerProcess server;
  ASSERT_TRUE(server.StartWithConfig(kConfig).ok()) << server.output();
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.Start(absl::StrCat("127.0.0.1:", server.grpc_port())).ok())
      << gateway.output();
  ASSERT_EQ(WaitForStatus(gateway.url("/health"), 200, absl::Seconds(10)).status, 200);

  ProgramResult dom = RunChromium("profile-dom", {"--dump-dom"}, gateway.url("/"));
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  EXPECT_TRUE(absl::StrContains(dom.out, "HEALTHY")) << dom.out;
  EXPECT_TRUE(absl::StrContains(dom.out, "<code>/front-door</code>")) << dom.out;
  EXPECT_TRUE(absl::StrContains(dom.out, "<code>/parking</code>")) << dom.out;
  EXPECT_TRUE(absl::StrContains(dom.out, "Front door &lt;camera&gt;")) << dom.out;
  EXPECT_TRUE(absl::StrContains(
      dom.out, absl::StrCat("rtsp://127.0.0.1:", server.port("a"), "/front-door")));
  EXPECT_TRUE(
      absl::StrContains(dom.out, absl::StrCat("rtsp://127.0.0.1:", server.port("b"), "/parking")));
  EXPECT_FALSE(
      absl::StrContains(dom.out, absl::StrCat("rtsp://127.0.0.1:", server.port("a"), "/parking")));

  const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  std::string png = absl::StrCat(outputs != nullptr ? outputs : TempDir(), "/status_page.png");
  ProgramResult shot =
      RunChromium("profile-shot", {absl::StrCat("--screenshot=", png), "--window-size=1280,900"},
                  gateway.url("/"));
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  struct stat info {};
  ASSERT_EQ(stat(png.c_str(), &info), 0) << "no screenshot at " << png << "\n" << shot.err;
  // A blank 1280x900 page compresses to a few KB; tables and text do not.
  EXPECT_GT(info.st_size, 20 * 1024) << png;
  std::ifstream file(png, std::ios::binary);
  char magic[8] = {0};
  file.read(magic, sizeof(magic));
  EXPECT_EQ(std::string(magic, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

}  // namespace
}  // namespace rtsptest::testing
