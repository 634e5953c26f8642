// The main() of every C++ test: hermetic GStreamer set-up, then GoogleTest.
//
// GStreamer writes its plugin registry under $HOME by default; under Bazel the
// registry goes to $TEST_TMPDIR so that tests never share or pollute state.
#include <gst/gst.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

int main(int argc, char** argv) {
  if (const char* tmp = std::getenv("TEST_TMPDIR")) {
    setenv("GST_REGISTRY", (std::string(tmp) + "/gst-registry.bin").c_str(), 0);
  }
  setenv("GST_REGISTRY_FORK", "no", 0);
  unsetenv("DISPLAY");
  gst_init(&argc, &argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
