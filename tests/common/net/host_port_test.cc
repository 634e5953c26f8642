// Tests for BracketHost, JoinHostPort and LoopbackFor.
#include "common/net/host_port.h"

#include "gtest/gtest.h"

namespace rtsptest::common {
namespace {

TEST(HostPortTest, BracketsOnlyIpv6Literals) {
  EXPECT_EQ(common::BracketHost("::1"), "[::1]");
  EXPECT_EQ(common::BracketHost("2001:db8::1"), "[2001:db8::1]");
  EXPECT_EQ(common::BracketHost("[::1]"), "[::1]");
  EXPECT_EQ(common::BracketHost("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(common::BracketHost("cams.example"), "cams.example");
}

TEST(HostPortTest, JoinsHostAndPort) {
  EXPECT_EQ(common::JoinHostPort("127.0.0.1", 8554), "127.0.0.1:8554");
  EXPECT_EQ(common::JoinHostPort("::1", 8554), "[::1]:8554");
  EXPECT_EQ(common::JoinHostPort("cams.example", 80), "cams.example:80");
}

TEST(HostPortTest, SplitsAuthoritiesWithAndWithoutPortOrBrackets) {
  absl::StatusOr<HostPort> plain = SplitHostPort("cams.example");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->host, "cams.example");
  EXPECT_FALSE(plain->has_port);
  absl::StatusOr<HostPort> v4 = SplitHostPort("127.0.0.1:8554");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_TRUE(v4->has_port);
  EXPECT_EQ(v4->port, "8554");
  absl::StatusOr<HostPort> v6 = SplitHostPort("[::1]:8080");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "8080");
  absl::StatusOr<HostPort> empty_port = SplitHostPort("host:");
  ASSERT_TRUE(empty_port.ok());
  EXPECT_TRUE(empty_port->has_port);
  EXPECT_EQ(empty_port->port, "");
}

TEST(HostPortTest, RejectsBadBrackets) {
  EXPECT_EQ(SplitHostPort("[::1").status().message(), "unclosed '['");
  EXPECT_EQ(SplitHostPort("[::1]x").status().message(), "'x' after ']' is not :port");
}

TEST(HostPortTest, WildcardBindsAreReachedOnLoopbackOfTheirFamily) {
  EXPECT_EQ(common::LoopbackFor(""), "127.0.0.1");
  EXPECT_EQ(common::LoopbackFor("0.0.0.0"), "127.0.0.1");
  EXPECT_EQ(common::LoopbackFor("::"), "::1");
  EXPECT_EQ(common::LoopbackFor("10.0.0.5"), "10.0.0.5");
  EXPECT_EQ(common::LoopbackFor("::1"), "::1");
}

}  // namespace
}  // namespace rtsptest::common
