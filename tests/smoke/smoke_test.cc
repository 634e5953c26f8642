#include <gst/gst.h>
#include "gtest/gtest.h"
#include "plugins/sdk/rts_plugin.h"
#include "rtsptest/config/v1/config.pb.h"
TEST(Smoke, Builds) {
  rtsptest::config::v1::ServerConfig c;
  c.add_listeners()->set_port(1);
  EXPECT_EQ(c.listeners_size(), 1);
  EXPECT_NE(gst_element_factory_find("videotestsrc"), nullptr);
}
