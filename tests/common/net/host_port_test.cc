// Tests for BracketHost, JoinHostPort and LoopbackFor.
#include "common/net/host_port.h"

#include "gtest/gtest.h"

namespace rtsptest::net {
namespace {

TEST(HostPortTest, BracketsOnlyIpv6Literals) {
  EXPECT_EQ(BracketHost("::1"), "[::1]");
  EXPECT_EQ(BracketHost("2001:db8::1"), "[2001:db8::1]");
  EXPECT_EQ(BracketHost("[::1]"), "[::1]");
  EXPECT_EQ(BracketHost("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(BracketHost("cams.example"), "cams.example");
}

TEST(HostPortTest, JoinsHostAndPort) {
  EXPECT_EQ(JoinHostPort("127.0.0.1", 8554), "127.0.0.1:8554");
  EXPECT_EQ(JoinHostPort("::1", 8554), "[::1]:8554");
  EXPECT_EQ(JoinHostPort("cams.example", 80), "cams.example:80");
}

TEST(HostPortTest, WildcardBindsAreReachedOnLoopbackOfTheirFamily) {
  EXPECT_EQ(LoopbackFor(""), "127.0.0.1");
  EXPECT_EQ(LoopbackFor("0.0.0.0"), "127.0.0.1");
  EXPECT_EQ(LoopbackFor("::"), "::1");
  EXPECT_EQ(LoopbackFor("10.0.0.5"), "10.0.0.5");
  EXPECT_EQ(LoopbackFor("::1"), "::1");
}

}  // namespace
}  // namespace rtsptest::net
