// The plugin host against plugins that misbehave in ways that used to hang
// or crash the server (//plugins/testing): a create that blocks, and
// descriptors that point to unreadable memory. Real shared objects, loaded
// with the real PluginLoader.
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/plugin_host/descriptor_memory.h"
#include "core/plugin_host/plugin_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rtsptest::core {
namespace {

using ::testing::HasSubstr;

std::string TestingPluginDir() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/rtsp_test_server/plugins/testing");
}

TEST(DescriptorMemoryTest, TellsReadableFromUnmappedMemory) {
  static const char kText[] = "readable";
  EXPECT_TRUE(IsReadableMemory(kText, sizeof(kText)));
  EXPECT_FALSE(IsReadableMemory(reinterpret_cast<const void*>(0x1000), 8));
  EXPECT_FALSE(IsReadableMemory(nullptr, 1));
}

TEST(PluginSafetyTest, RejectsADescriptorPointerToUnmappedMemory) {
  PluginLoader loader({TestingPluginDir()});
  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader.Load("wild_descriptor");
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plugin.status().message(),
            absl::StrCat("plugin wild_descriptor: ", TestingPluginDir(),
                         "/libwild_descriptor.so: rts_plugin_get_descriptor() returned 0x1008, "
                         "which is not readable memory"));
}

TEST(PluginSafetyTest, RejectsADescriptorStringInAnUnreadablePage) {
  PluginLoader loader({TestingPluginDir()});
  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader.Load("wild_string");
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plugin.status().message(),
              HasSubstr("/libwild_string.so: descriptor description points to unreadable memory "
                        "(0x"));
}

TEST(PluginSafetyTest, RejectsACreatePointerOutsideAnyLibrary) {
  PluginLoader loader({TestingPluginDir()});
  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader.Load("wild_create");
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plugin.status().message(),
              HasSubstr("/libwild_create.so: descriptor create points to 0x1040, which is in no "
                        "loaded library: the descriptor is garbage"));
}

TEST(PluginSafetyTest, ABlockingCreateIsAbandonedAtTheBoundAndItsLateResultIsDiscarded) {
  PluginLoader loader({TestingPluginDir()}, absl::Milliseconds(300));
  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader.Load("hang");
  ASSERT_TRUE(plugin.ok()) << plugin.status();

  absl::Time start = absl::Now();
  absl::StatusOr<GstPtr<GstElement>> element =
      (*plugin)->CreateElement("/p", {{"sleep_ms", "1500"}});
  absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(element.ok());
  EXPECT_EQ(element.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(element.status().message(),
              HasSubstr("stream /p: plugin hang: create() did not return within 300ms; the call "
                        "is abandoned"));
  EXPECT_GE(took, absl::Milliseconds(300));
  EXPECT_LT(took, absl::Milliseconds(1200));
  EXPECT_EQ((*plugin)->stuck_creates(), 1);

  // While the abandoned call is stuck, the plugin is not called again.
  absl::StatusOr<GstPtr<GstElement>> again = (*plugin)->CreateElement("/q", {{"sleep_ms", "0"}});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(again.status().message(),
              HasSubstr("stream /q: plugin hang: not called: 1 earlier create() call(s) of this "
                        "plugin did not return within 300ms"));

  // Once it has returned (and its result was dropped), the plugin works again.
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while ((*plugin)->stuck_creates() != 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ((*plugin)->stuck_creates(), 0);
  absl::StatusOr<GstPtr<GstElement>> after = (*plugin)->CreateElement("/r", {{"sleep_ms", "10"}});
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(after.status().message(),
            "stream /r: plugin hang: create failed: slept 10 ms and built nothing");
}

}  // namespace
}  // namespace rtsptest::core
