// Tests for GoFlags (Go `flag` syntax) and Go durations.
#include "common/flags/go_flags.h"

#include <vector>

#include "gtest/gtest.h"

namespace rtsptest::common {
namespace {

struct Parsed {
  std::string addr;
  bool tls = false;
  absl::Duration timeout = absl::Seconds(1);
  std::vector<std::string> headers;
  absl::Status status;
  common::GoFlags flags;
};

std::unique_ptr<Parsed> Parse(std::vector<const char*> args) {
  auto p = std::make_unique<Parsed>();
  p->flags.AddString("addr", &p->addr);
  p->flags.AddBool("tls", &p->tls);
  p->flags.AddDuration("timeout", &p->timeout);
  p->flags.AddStringList("rpc-header", &p->headers);
  args.insert(args.begin(), "prog");
  p->status = p->flags.Parse(static_cast<int>(args.size()), args.data());
  return p;
}

TEST(GoFlagsTest, AcceptsEveryGoSpelling) {
  for (const auto& args : std::vector<std::vector<const char*>>{
           {"-addr=h:1"}, {"--addr=h:1"}, {"-addr", "h:1"}, {"--addr", "h:1"}}) {
    auto p = Parse(args);
    EXPECT_TRUE(p->status.ok()) << p->status;
    EXPECT_EQ(p->addr, "h:1");
    EXPECT_EQ(p->flags.set_flags().count("addr"), 1u);
  }
}

TEST(GoFlagsTest, BoolFlags) {
  EXPECT_TRUE(Parse({"-tls"})->tls);
  EXPECT_TRUE(Parse({"--tls=true"})->tls);
  EXPECT_FALSE(Parse({"-tls=false"})->tls);
  EXPECT_TRUE(Parse({"-tls=1"})->tls);
  // A bool never takes the next argument as its value.
  auto p = Parse({"-tls", "-addr=x"});
  EXPECT_TRUE(p->tls);
  EXPECT_EQ(p->addr, "x");
  EXPECT_EQ(Parse({"-tls=maybe"})->status.code(), absl::StatusCode::kInvalidArgument);
}

TEST(GoFlagsTest, RepeatableFlagAppends) {
  auto p = Parse({"-rpc-header", "a: 1", "--rpc-header=b: 2"});
  EXPECT_EQ(p->headers, (std::vector<std::string>{"a: 1", "b: 2"}));
}

TEST(GoFlagsTest, ErrorsUseGoWording) {
  EXPECT_EQ(Parse({"-nope"})->status.message(), "flag provided but not defined: -nope");
  EXPECT_EQ(Parse({"-addr"})->status.message(), "flag needs an argument: -addr");
  EXPECT_EQ(Parse({"positional"})->status.message(), "unexpected argument: positional");
  EXPECT_EQ(Parse({"---addr=x"})->status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Parse({"-addr=x", "--"})->status.ok());
}

TEST(GoFlagsTest, HelpIsNotAnError) {
  auto p = Parse({"-h"});
  EXPECT_TRUE(p->status.ok());
  EXPECT_TRUE(p->flags.help_requested());
  EXPECT_TRUE(Parse({"--help"})->flags.help_requested());
}

TEST(GoDurationTest, ParsesGoSyntax) {
  absl::Duration d;
  ASSERT_TRUE(common::ParseGoDuration("1s", &d).ok());
  EXPECT_EQ(d, absl::Seconds(1));
  ASSERT_TRUE(common::ParseGoDuration("500ms", &d).ok());
  EXPECT_EQ(d, absl::Milliseconds(500));
  ASSERT_TRUE(common::ParseGoDuration("1m", &d).ok());
  EXPECT_EQ(d, absl::Minutes(1));
  ASSERT_TRUE(common::ParseGoDuration("1.5s", &d).ok());
  EXPECT_EQ(d, absl::Milliseconds(1500));
  ASSERT_TRUE(common::ParseGoDuration("1m30s", &d).ok());
  EXPECT_EQ(d, absl::Seconds(90));
  ASSERT_TRUE(common::ParseGoDuration("0", &d).ok());
  EXPECT_EQ(d, absl::ZeroDuration());
  EXPECT_FALSE(common::ParseGoDuration("1", &d).ok());  // Go requires a unit.
  EXPECT_FALSE(common::ParseGoDuration("inf", &d).ok());
  EXPECT_FALSE(common::ParseGoDuration("", &d).ok());
  EXPECT_FALSE(common::ParseGoDuration("fast", &d).ok());
}

TEST(GoDurationTest, FormatsLikeGo) {
  EXPECT_EQ(common::FormatGoDuration(absl::Seconds(1)), "1s");
  EXPECT_EQ(common::FormatGoDuration(absl::Milliseconds(200)), "200ms");
  EXPECT_EQ(common::FormatGoDuration(absl::Minutes(1)), "1m0s");
  EXPECT_EQ(common::FormatGoDuration(absl::Hours(1)), "1h0m0s");
}

}  // namespace
}  // namespace rtsptest::common
