// The real rtsp_test_server binary with a plugin directory holding damaged
// plugins, made by the test at run time from a real built plugin: a
// truncated copy (used to end the process with SIGBUS), one whose e_machine
// says ARM aarch64, and a text file named libfoo.so. --check_config reports
// each precisely and exits 2, --list_plugins lists them as not loadable, and
// a started server skips their streams and serves the good one.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

constexpr absl::Duration kStep = absl::Seconds(10);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// The "stream skipped" log line for `path`, or "".
std::string SkippedLine(const std::string& output, const std::string& path) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (line.find("\"msg\":\"stream skipped\"") != absl::string_view::npos &&
        line.find(absl::StrCat("\"stream\":\"", path, "\"")) != absl::string_view::npos) {
      return std::string(line);
    }
  }
  return "";
}

class BadPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    bad_dir_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/bad_plugins_",
                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(bad_dir_);
    std::filesystem::create_directories(bad_dir_);
    good_dir_ = RunfilePath("plugins");
    const std::string real = ReadFile(absl::StrCat(good_dir_, "/libtestpattern.so"));
    ASSERT_GT(real.size(), 4096u);
    WriteFile(absl::StrCat(bad_dir_, "/libcut.so"), real.substr(0, 4096));
    std::string arm = real;
    arm[18] = static_cast<char>(183);  // e_machine (little-endian) = EM_AARCH64
    arm[19] = 0;
    WriteFile(absl::StrCat(bad_dir_, "/libarm.so"), arm);
    WriteFile(absl::StrCat(bad_dir_, "/libfoo.so"), "not a library\n");
  }

  // Streams on each bad plugin and one on testpattern; the bad directory is
  // searched first.
  std::string Config() const {
    return absl::StrCat(R"yaml(
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
control: {bind_address: 127.0.0.1, port: 0}
drain_timeout: 0s
plugin_dirs: [")yaml",
                        bad_dir_, "\", \"", good_dir_, R"yaml("]
streams:
  - {path: /cut, plugin: cut}
  - {path: /arm, plugin: arm}
  - {path: /foo, plugin: foo}
  - path: /good
    plugin: testpattern
    parameters: {width: 160, height: 120, fps: 5, overlay: false}
)yaml");
  }

  std::string bad_dir_;
  std::string good_dir_;
};

TEST_F(BadPluginTest, CheckConfigReportsEachDamagedPluginAndExitsTwoWithoutCrashing) {
  const std::string config = WriteTempFile("bad_plugins.yaml", Config());
  ServerProcess server;
  EXPECT_FALSE(server.Start({absl::StrCat("--config=", config), "--check_config"}).ok());
  absl::StatusOr<int> exit_code = server.WaitForExit(kStep);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 2) << server.output();  // not -SIGBUS
  const std::string errors = server.error_output();
  EXPECT_NE(errors.find(absl::StrCat(bad_dir_, "/libcut.so: truncated: 4096 bytes, ")),
            std::string::npos)
      << errors;
#if defined(__x86_64__)
  EXPECT_NE(
      errors.find(absl::StrCat(
          bad_dir_, "/libarm.so: built for ARM aarch64 (e_machine 183), this server is x86-64")),
      std::string::npos)
      << errors;
#endif
  EXPECT_NE(errors.find(absl::StrCat(bad_dir_, "/libfoo.so: not an ELF file (14 bytes")),
            std::string::npos)
      << errors;
  EXPECT_EQ(errors.find("/good"), std::string::npos) << errors;
}

TEST_F(BadPluginTest, ListPluginsListsTheDamagedOnesAsNotLoadableAndTheGoodOnes) {
  ServerProcess server;
  EXPECT_FALSE(
      server.Start({absl::StrCat("--plugin_dir=", bad_dir_, ",", good_dir_), "--list_plugins"})
          .ok());
  absl::StatusOr<int> exit_code = server.WaitForExit(kStep);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << server.output();
  const std::string output = server.output();
  EXPECT_NE(output.find("cut: NOT LOADABLE: plugin cut: "), std::string::npos) << output;
  EXPECT_NE(output.find("arm: NOT LOADABLE: plugin arm: "), std::string::npos) << output;
  EXPECT_NE(output.find("foo: NOT LOADABLE: plugin foo: "), std::string::npos) << output;
  EXPECT_NE(output.find(absl::StrCat("testpattern ")), std::string::npos) << output;
}

TEST_F(BadPluginTest, AStartedServerSkipsTheDamagedPluginsStreamsAndServesTheGoodOne) {
  ServerProcess server;
  ASSERT_TRUE(server.StartWithConfig(Config()).ok()) << server.output();
  const std::string output = server.output();
  EXPECT_NE(SkippedLine(output, "/cut").find("libcut.so: truncated: 4096 bytes, "),
            std::string::npos)
      << output;
  EXPECT_NE(SkippedLine(output, "/arm").find("libarm.so: built for ARM aarch64 (e_machine 183)"),
            std::string::npos)
      << output;
  EXPECT_NE(SkippedLine(output, "/foo").find("libfoo.so: not an ELF file"), std::string::npos)
      << output;
  EXPECT_EQ(SkippedLine(output, "/good"), "") << output;
  tools::RtspClient client(server.url("a", "/good"));
  ASSERT_TRUE(client.Connect(kStep).ok());
  absl::StatusOr<tools::RtspResponse> describe = client.Describe(kStep);
  ASSERT_TRUE(describe.ok()) << describe.status();
  EXPECT_EQ(describe->status_code, 200);
  absl::StatusOr<int> exit_code = server.Stop(SIGTERM, kStep);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server.output();
  EXPECT_EQ(*exit_code, 0);
}

}  // namespace
}  // namespace rtsptest::testing
