// Session ids are letters and digits only, so that they paste into a shell,
// a command line flag position or a regular expression unharmed.
#include "core/listener/session_ids.h"

#include <gst/gst.h>

#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "gtest/gtest.h"

namespace rtsptest::testing {
namespace {

bool IsAlphanumeric(const std::string& id) {
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

TEST(SessionIdsTest, AreSixteenLettersAndDigitsAndDistinct) {
  std::set<std::string> ids;
  std::set<char> seen;
  for (int i = 0; i < 10000; ++i) {
    std::string id = core::NewSessionId();
    ASSERT_EQ(id.size(), 16u) << id;
    ASSERT_TRUE(IsAlphanumeric(id)) << id;
    ids.insert(id);
    seen.insert(id.begin(), id.end());
  }
  EXPECT_EQ(ids.size(), 10000u);
  // 160,000 draws reach every one of the 62 characters.
  EXPECT_EQ(seen.size(), 62u);
}

TEST(SessionIdsTest, ThePoolHandsThemOut) {
  gst_init(nullptr, nullptr);
  GstRTSPSessionPool* pool = core::NewAlphanumericSessionPool();
  for (int i = 0; i < 100; ++i) {
    GstRTSPSession* session = gst_rtsp_session_pool_create(pool);
    ASSERT_NE(session, nullptr);
    std::string id = gst_rtsp_session_get_sessionid(session);
    EXPECT_EQ(id.size(), 16u) << id;
    EXPECT_TRUE(IsAlphanumeric(id)) << id;
    gst_rtsp_session_pool_remove(pool, session);
    g_object_unref(session);
  }
  g_object_unref(pool);
}

}  // namespace
}  // namespace rtsptest::testing
