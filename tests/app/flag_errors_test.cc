// Bad flags on the real rtsp_test_server binary: an unknown flag, a bad
// value or a missing value is a configuration error, exit code 2, with a
// message on stderr that names the flag and the value (absl::ParseCommandLine
// alone would exit 1, the code for "nothing could be served"). --help still
// prints the usage.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"

namespace rtsptest::testing {
namespace {

constexpr absl::Duration kExitTimeout = absl::Seconds(30);
constexpr int kConfigErrorExitCode = 2;
constexpr char kPrefix[] = "rtsp_test_server: configuration error: ";

struct BadFlagCase {
  const char* name;
  // ServerProcess adds --grpc_port=0 after them unless they choose the port.
  std::vector<std::string> args;
  // What stderr must contain after kPrefix.
  const char* message;
};

class BadFlagTest : public ::testing::TestWithParam<BadFlagCase> {};

TEST_P(BadFlagTest, ExitsTwoNamingTheFlagAndValue) {
  ServerProcess server;
  ASSERT_FALSE(server.Start(GetParam().args).ok()) << "the server started:\n" << server.output();
  absl::StatusOr<int> exit_code = server.WaitForExit(kExitTimeout);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, kConfigErrorExitCode) << server.error_output();
  EXPECT_NE(server.error_output().find(absl::StrCat(kPrefix, GetParam().message)),
            std::string::npos)
      << server.error_output();
}

const BadFlagCase kBadFlags[] = {
    {"UnknownFlag", {"--nosuchflag"}, "unknown flag '--nosuchflag' (see --help)"},
    {"UnknownFlagWithValue", {"--nosuchflag=1"}, "unknown flag '--nosuchflag=1' (see --help)"},
    {"BadBooleanValue",
     {"--list_plugins=maybe"},
     "--list_plugins='maybe': not a boolean (true/false, yes/no, 1/0, t/f, y/n)"},
    {"EmptyBooleanValue", {"--check_config="}, "--check_config=: missing value (true or false)"},
    {"MissingValue",
     {"--grpc_port=0", "--drain_timeout"},
     "--drain_timeout: missing value (--drain_timeout=<value>)"},
    {"BadDuration", {"--drain_timeout=abc"}, "--drain_timeout='abc'"},
    {"NegativeFormOfAStringFlag",
     {"--nodrain_timeout"},
     "'--nodrain_timeout': --drain_timeout is not a boolean flag; there is no --no form"},
};

INSTANTIATE_TEST_SUITE_P(Flags, BadFlagTest, ::testing::ValuesIn(kBadFlags),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(HelpFlagTest, PrintsTheUsageAndIsNoConfigurationError) {
  ServerProcess server;
  ASSERT_FALSE(server.Start({"--help"}).ok()) << server.output();
  absl::StatusOr<int> exit_code = server.WaitForExit(kExitTimeout);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_NE(*exit_code, kConfigErrorExitCode) << server.output();
  EXPECT_NE(server.output().find("Serves simulated RTSP cameras"), std::string::npos)
      << server.output();
  EXPECT_EQ(server.error_output().find("configuration error"), std::string::npos)
      << server.error_output();
}

}  // namespace
}  // namespace rtsptest::testing
