// Tests for the http mode's URL parsing (ParseHttpUrl).
#include "tools/health_probe/http_get.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace rtsptest::tools {
namespace {

TEST(HttpUrlTest, ParsesHostPortPath) {
  auto u = ParseHttpUrl("http://127.0.0.1:8080/health?x=1");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/health?x=1");
  u = ParseHttpUrl("http://[::1]:9000");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9000);
  EXPECT_EQ(u->path, "/");
  u = ParseHttpUrl("HTTP://gateway/ready");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 80);
}

TEST(HttpUrlTest, RejectsWhatItCannotDo) {
  for (const char* bad : {"https://h/", "h:80/x", "http://", "http://h:0/", "http://h:x/",
                          "http://[::1/", "http://u@h/", "http://h:/"}) {
    EXPECT_EQ(ParseHttpUrl(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace rtsptest::tools
