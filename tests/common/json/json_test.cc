// Tests for DumpJson and ParseJson.
#include "common/json/json.h"

#include <limits>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace rtsptest::common {
namespace {

TEST(DumpJsonTest, KeepsInsertionOrderAndWritesCompactly) {
  common::Json value = common::Json::object();
  value["status"] = "healthy";
  value["open_ports"] = 3;
  value["ok"] = true;
  value["none"] = nullptr;
  value["list"] = common::Json::array({1, "a"});
  EXPECT_EQ(common::DumpJson(value, common::JsonFloatStyle::Fixed(3)),
            R"({"status":"healthy","open_ports":3,"ok":true,"none":null,"list":[1,"a"]})");
}

TEST(DumpJsonTest, FixedStyleWritesEveryDecimal) {
  common::Json value = common::Json::object();
  value["uptime_seconds"] = 5.0;
  value["latency_ms"] = 0.41;
  EXPECT_EQ(common::DumpJson(value, common::JsonFloatStyle::Fixed(3)),
            R"({"uptime_seconds":5.000,"latency_ms":0.410})");
}

TEST(DumpJsonTest, SignificantStyleWritesLikePrintfG) {
  EXPECT_EQ(common::DumpJson(common::Json(1234567.0), common::JsonFloatStyle::Significant(6)),
            "1.23457e+06");
  EXPECT_EQ(common::DumpJson(common::Json(0.5), common::JsonFloatStyle::Significant(6)), "0.5");
}

TEST(DumpJsonTest, NonFiniteNumbersAreNull) {
  EXPECT_EQ(common::DumpJson(common::Json(std::numeric_limits<double>::quiet_NaN()),
                             common::JsonFloatStyle::Fixed(3)),
            "null");
}

TEST(DumpJsonTest, EscapesStringsAndKeys) {
  common::Json value = common::Json::object();
  value["a\"b"] = "line\nbreak\t\\ \x01";
  EXPECT_EQ(common::DumpJson(value, common::JsonFloatStyle::Fixed(3)),
            R"({"a\"b":"line\nbreak\t\\ \u0001"})");
}

TEST(DumpJsonTest, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(common::DumpJson(common::Json("a\xff"), common::JsonFloatStyle::Fixed(3)),
            "\"a\xEF\xBF\xBD\"");
}

TEST(ParseJsonTest, ParsesWhatDumpJsonWrites) {
  common::Json value = common::Json::object();
  value["port"] = 8554;
  value["error"] = "connection \"refused\"";
  absl::StatusOr<common::Json> parsed =
      common::ParseJson(common::DumpJson(value, common::JsonFloatStyle::Fixed(3)) + "\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, value);
}

TEST(ParseJsonTest, RejectsMalformedTextWithInvalidArgument) {
  EXPECT_EQ(common::ParseJson("{\"a\":").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(common::ParseJson("").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rtsptest::common
