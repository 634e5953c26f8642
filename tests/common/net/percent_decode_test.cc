// PercentDecode: escapes, malformed escapes, and '+' in a query.
#include "common/net/percent_decode.h"

#include "gtest/gtest.h"

namespace rtsptest::common {
namespace {

TEST(PercentDecodeTest, DecodesEscapesOfEitherCase) {
  EXPECT_EQ(PercentDecode("us%40er:p%3ass%25"), "us@er:p:ss%");
}

TEST(PercentDecodeTest, LeavesMalformedEscapesAsTheyAre) {
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%4"), "%4");
  EXPECT_EQ(PercentDecode("%zz%4g"), "%zz%4g");
}

TEST(PercentDecodeTest, PlusIsASpaceOnlyWhenAsked) {
  EXPECT_EQ(PercentDecode("a+b%2B"), "a+b+");
  EXPECT_EQ(PercentDecode("a+b%2B", /*plus_is_space=*/true), "a b+");
}

}  // namespace
}  // namespace rtsptest::common
