// Tests for the JSON-lines format (FormatLogLine) and ParseLogLevel.
#include "common/log/log.h"

#include <vector>

#include "common/json/json.h"
#include "gtest/gtest.h"

namespace rtsptest::common {
namespace {

TEST(LogTest, FormatsOneJsonObjectPerLineWithFieldsInOrder) {
  const std::vector<common::LogField> fields = {
      {"listener", "rtsp-0"}, {"port", 8554}, {"ratio", 0.25}, {"bound", true}};
  const std::string line =
      common::FormatLogLine(common::LogLevel::kWarning, "listener \"down\"", fields);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  absl::StatusOr<common::Json> json = common::ParseJson(line);
  ASSERT_TRUE(json.ok()) << json.status();
  std::vector<std::string> keys;
  for (const auto& [key, value] : json->items()) keys.push_back(key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"ts", "level", "msg", "listener", "port", "ratio", "bound"}));
  EXPECT_EQ((*json)["level"], "warning");
  EXPECT_EQ((*json)["msg"], "listener \"down\"");
  EXPECT_EQ((*json)["listener"], "rtsp-0");
  EXPECT_EQ((*json)["port"], 8554);
  EXPECT_EQ((*json)["ratio"], 0.25);
  EXPECT_EQ((*json)["bound"], true);
  EXPECT_EQ((*json)["ts"].get<std::string>().size(),
            std::string("2025-01-20T10:30:00.123Z").size());
}

TEST(LogTest, ParsesLevelsCaseInsensitively) {
  common::LogLevel level = common::LogLevel::kInfo;
  ASSERT_TRUE(common::ParseLogLevel("WARN", &level));
  EXPECT_EQ(level, common::LogLevel::kWarning);
  ASSERT_TRUE(common::ParseLogLevel("debug", &level));
  EXPECT_EQ(level, common::LogLevel::kDebug);
  EXPECT_FALSE(common::ParseLogLevel("verbose", &level));
}

}  // namespace
}  // namespace rtsptest::common
