// CheckCommandLineFlags against flags defined here: every command line that
// absl::ParseCommandLine would reject (and exit 1 on) is InvalidArgument
// naming the flag and the value; every one it accepts is OK.
#include "app/flag_check.h"

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

ABSL_FLAG(bool, fc_bool, false, "a boolean flag");
ABSL_FLAG(std::string, fc_string, "", "a string flag");
ABSL_FLAG(int, fc_int, 0, "an integer flag");

namespace rtsptest::app {
namespace {

absl::Status Check(std::vector<std::string> args) {
  args.insert(args.begin(), "program");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return CheckCommandLineFlags(static_cast<int>(argv.size()), argv.data());
}

// The message when the check fails, "" when it passes.
std::string Message(std::vector<std::string> args) {
  absl::Status status = Check(std::move(args));
  if (!status.ok()) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  }
  return std::string(status.message());
}

TEST(FlagCheckTest, AcceptsEveryFormAbslAccepts) {
  EXPECT_TRUE(Check({"--fc_bool", "-fc_bool", "--nofc_bool", "--fc_bool=false", "--fc_bool=yes",
                     "--fc_string=x", "--fc_string", "value", "--fc_string=", "--fc_int=-3",
                     "--fc_int", "7", "positional", "-", "--", "--nosuchflag"})
                  .ok());
}

TEST(FlagCheckTest, AcceptsUsageFlags) {
  EXPECT_TRUE(Check({"--help"}).ok());
  EXPECT_TRUE(Check({"--helpfull"}).ok());
  EXPECT_TRUE(Check({"--help=fc_"}).ok());
  EXPECT_TRUE(Check({"--version"}).ok());
}

TEST(FlagCheckTest, UnknownFlagNamesIt) {
  EXPECT_EQ(Message({"--nosuchflag"}), "unknown flag '--nosuchflag' (see --help)");
  EXPECT_EQ(Message({"-nosuchflag=3"}), "unknown flag '-nosuchflag=3' (see --help)");
}

TEST(FlagCheckTest, UndefokAllowsAnUnknownFlag) {
  EXPECT_TRUE(Check({"--nosuchflag=3", "--undefok=nosuchflag"}).ok());
  EXPECT_TRUE(Check({"--undefok=nosuchflag,other", "--nonosuchflag"}).ok());
}

TEST(FlagCheckTest, BadBooleanValueNamesFlagAndValue) {
  EXPECT_EQ(Message({"--fc_bool=maybe"}),
            "--fc_bool='maybe': not a boolean (true/false, yes/no, 1/0, t/f, y/n)");
}

TEST(FlagCheckTest, EmptyBooleanValueIsMissing) {
  EXPECT_EQ(Message({"--fc_bool="}), "--fc_bool=: missing value (true or false)");
}

TEST(FlagCheckTest, NegativeBooleanWithValueIsRejected) {
  EXPECT_EQ(Message({"--nofc_bool=true"}),
            "'--nofc_bool=true': the --no form of a boolean flag takes no value");
}

TEST(FlagCheckTest, NegativeFormOfANonBooleanIsRejected) {
  EXPECT_EQ(Message({"--nofc_string"}),
            "'--nofc_string': --fc_string is not a boolean flag; there is no --no form");
}

TEST(FlagCheckTest, MissingValueAtTheEndNamesTheFlag) {
  EXPECT_EQ(Message({"--fc_string"}), "--fc_string: missing value (--fc_string=<value>)");
}

TEST(FlagCheckTest, BadNumberNamesFlagAndValue) {
  EXPECT_EQ(Message({"--fc_int=abc"}), "--fc_int='abc': not a number");
  EXPECT_EQ(Message({"--fc_int", "1.5"}), "--fc_int='1.5': not a number");
}

TEST(FlagCheckTest, NoNameBeforeEqualsIsRejected) {
  EXPECT_EQ(Message({"--=3"}), "'--=3': no flag name before '='");
}

TEST(FlagCheckTest, BadLineOfAFlagfileNamesTheFile) {
  const std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/flags.txt");
  std::ofstream(path) << "# comment\n--fc_string=ok\n--fc_bool=maybe\n";
  EXPECT_EQ(Message({absl::StrCat("--flagfile=", path)}),
            absl::StrCat("--fc_bool='maybe' (in --flagfile ", path,
                         "): not a boolean (true/false, yes/no, 1/0, t/f, y/n)"));
}

TEST(FlagCheckTest, BadValueFromTheEnvironmentNamesTheVariable) {
  setenv("FLAGS_fc_int", "x", 1);
  EXPECT_EQ(Message({"--fromenv=fc_int"}), "--fc_int='x' (from $FLAGS_fc_int): not a number");
  unsetenv("FLAGS_fc_int");
  EXPECT_EQ(Message({"--fromenv=fc_int"}), "--fromenv=fc_int: $FLAGS_fc_int is not set");
  EXPECT_TRUE(Check({"--tryfromenv=fc_int"}).ok());
}

TEST(FlagCheckTest, ChangesNoFlag) {
  ASSERT_TRUE(Check({"--fc_bool", "--fc_string=changed", "--fc_int=5"}).ok());
  EXPECT_FALSE(absl::GetFlag(FLAGS_fc_bool));
  EXPECT_EQ(absl::GetFlag(FLAGS_fc_string), "");
  EXPECT_EQ(absl::GetFlag(FLAGS_fc_int), 0);
}

}  // namespace
}  // namespace rtsptest::app
