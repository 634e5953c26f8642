// Listener URLs: the caller's host for wildcard binds (IPv6 in brackets),
// the bound address otherwise, loopback when the caller's host is unknown.
#include "control/services/listener_url.h"

#include "gtest/gtest.h"

namespace rtsptest::control {
namespace {

TEST(CallerHostTest, StripsThePortAndTheBrackets) {
  EXPECT_EQ(CallerHost("cams.example:50051"), "cams.example");
  EXPECT_EQ(CallerHost("10.0.0.7:50051"), "10.0.0.7");
  EXPECT_EQ(CallerHost("[fd00::7]:50051"), "fd00::7");
  EXPECT_EQ(CallerHost("cams.example"), "cams.example");
  EXPECT_EQ(CallerHost(""), "");
  EXPECT_EQ(CallerHost("[fd00::7"), "");  // malformed: unknown
}

TEST(ListenerUrlTest, WildcardBindUsesTheCallersHost) {
  core::RtspListener listener("any", "0.0.0.0", 8554);
  EXPECT_EQ(ListenerUrl(listener, "cams.example"), "rtsp://cams.example:8554");
  EXPECT_EQ(ListenerUrl(listener, "fd00::7"), "rtsp://[fd00::7]:8554");
}

TEST(ListenerUrlTest, WildcardBindWithoutACallerHostFallsBackToLoopback) {
  core::RtspListener v4("any", "0.0.0.0", 8554);
  core::RtspListener v6("any6", "::", 8555);
  EXPECT_EQ(ListenerUrl(v4, ""), "rtsp://127.0.0.1:8554");
  EXPECT_EQ(ListenerUrl(v6, ""), "rtsp://[::1]:8555");
}

TEST(ListenerUrlTest, SpecificBindKeepsItsAddress) {
  core::RtspListener v4("lo", "127.0.0.1", 8554);
  core::RtspListener v6("lo6", "::1", 8555);
  EXPECT_EQ(ListenerUrl(v4, "cams.example"), "rtsp://127.0.0.1:8554");
  EXPECT_EQ(ListenerUrl(v6, "cams.example"), "rtsp://[::1]:8555");
}

}  // namespace
}  // namespace rtsptest::control
