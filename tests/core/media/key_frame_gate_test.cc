// Where a joining reader may start, by RTP payload: the gate's classifier.
#include "core/media/key_frame_gate.h"

#include <vector>

#include "gtest/gtest.h"

namespace rtsptest::core {
namespace {

bool Starts(EntryPointFormat format, std::vector<uint8_t> payload) {
  return StartsEntryPoint(format, payload.data(), payload.size());
}

TEST(EntryPointFormatTest, MapsVideoEncodingNamesAndSkipsAudio) {
  EntryPointFormat format;
  ASSERT_TRUE(EntryPointFormatFor("H264", &format));
  EXPECT_EQ(format, EntryPointFormat::kH264);
  ASSERT_TRUE(EntryPointFormatFor("H265", &format));
  EXPECT_EQ(format, EntryPointFormat::kH265);
  ASSERT_TRUE(EntryPointFormatFor("JPEG", &format));
  EXPECT_EQ(format, EntryPointFormat::kJpeg);
  EXPECT_FALSE(EntryPointFormatFor("OPUS", &format));
  EXPECT_FALSE(EntryPointFormatFor("PCMU", &format));
  EXPECT_FALSE(EntryPointFormatFor("", &format));
}

TEST(H264EntryPointTest, SingleSpsAndIdrStartButPredictedSlicesAndPpsDoNot) {
  EXPECT_TRUE(Starts(EntryPointFormat::kH264, {0x67, 0x42}));   // SPS
  EXPECT_TRUE(Starts(EntryPointFormat::kH264, {0x65, 0x88}));   // IDR slice
  EXPECT_FALSE(Starts(EntryPointFormat::kH264, {0x68, 0xce}));  // PPS alone
  EXPECT_FALSE(Starts(EntryPointFormat::kH264, {0x41, 0x9a}));  // non-IDR slice
}

TEST(H264EntryPointTest, StapAStartsOnlyWhenItsFirstUnitIsSpsOrIdr) {
  // STAP-A header, 16-bit size, then the first NAL unit's header.
  EXPECT_TRUE(Starts(EntryPointFormat::kH264, {0x18, 0x00, 0x0a, 0x67, 0x42}));
  EXPECT_FALSE(Starts(EntryPointFormat::kH264, {0x18, 0x00, 0x04, 0x68, 0xce}));
}

TEST(H264EntryPointTest, FuAStartsOnlyOnTheFirstFragmentOfAnIdr) {
  EXPECT_TRUE(Starts(EntryPointFormat::kH264, {0x7c, 0x85, 0x88}));   // S=1, type 5
  EXPECT_FALSE(Starts(EntryPointFormat::kH264, {0x7c, 0x05, 0x88}));  // middle of an IDR
  EXPECT_FALSE(Starts(EntryPointFormat::kH264, {0x7c, 0x45, 0x88}));  // end of an IDR
  EXPECT_FALSE(Starts(EntryPointFormat::kH264, {0x5c, 0x81, 0x9a}));  // start of a P slice
}

TEST(H265EntryPointTest, ParameterSetsAndIrapPicturesStart) {
  EXPECT_TRUE(Starts(EntryPointFormat::kH265, {0x40, 0x01}));   // VPS (type 32)
  EXPECT_TRUE(Starts(EntryPointFormat::kH265, {0x42, 0x01}));   // SPS (33)
  EXPECT_TRUE(Starts(EntryPointFormat::kH265, {0x26, 0x01}));   // IDR_W_RADL (19)
  EXPECT_TRUE(Starts(EntryPointFormat::kH265, {0x2a, 0x01}));   // CRA (21)
  EXPECT_FALSE(Starts(EntryPointFormat::kH265, {0x44, 0x01}));  // PPS (34) alone
  EXPECT_FALSE(Starts(EntryPointFormat::kH265, {0x02, 0x01}));  // TRAIL_R (1)
}

TEST(H265EntryPointTest, AggregationAndFragmentationUnits) {
  // AP (48): header, 16-bit size, first unit's header.
  EXPECT_TRUE(Starts(EntryPointFormat::kH265, {0x60, 0x01, 0x00, 0x18, 0x40, 0x01}));
  EXPECT_FALSE(Starts(EntryPointFormat::kH265, {0x60, 0x01, 0x00, 0x18, 0x02, 0x01}));
  // FU (49): header, FU header with S bit and type.
  EXPECT_TRUE(Starts(EntryPointFormat::kH265, {0x62, 0x01, 0x93}));   // S=1, IDR_W_RADL
  EXPECT_FALSE(Starts(EntryPointFormat::kH265, {0x62, 0x01, 0x13}));  // continuation
  EXPECT_FALSE(Starts(EntryPointFormat::kH265, {0x62, 0x01, 0x81}));  // S=1, TRAIL_R
}

TEST(EntryPointRoleTest, DelimitersAndSeiArePrefixesThatMayComeFirst) {
  auto role = [](EntryPointFormat format, std::vector<uint8_t> payload) {
    return RoleOf(format, payload.data(), payload.size());
  };
  EXPECT_EQ(role(EntryPointFormat::kH264, {0x09, 0x10}), EntryPointRole::kPrefix);  // AUD
  EXPECT_EQ(role(EntryPointFormat::kH264, {0x06, 0x05}), EntryPointRole::kPrefix);  // SEI
  EXPECT_EQ(role(EntryPointFormat::kH264, {0x18, 0x00, 0x02, 0x09, 0x10}), EntryPointRole::kPrefix);
  EXPECT_EQ(role(EntryPointFormat::kH265, {0x46, 0x01}), EntryPointRole::kPrefix);  // AUD (35)
  EXPECT_EQ(role(EntryPointFormat::kH265, {0x4e, 0x01}), EntryPointRole::kPrefix);  // SEI (39)
  EXPECT_EQ(role(EntryPointFormat::kH264, {0x41, 0x9a}), EntryPointRole::kOther);
  EXPECT_EQ(role(EntryPointFormat::kJpeg, {0x00, 0x00, 0x05, 0x8c}), EntryPointRole::kOther);
}

TEST(JpegEntryPointTest, OnlyFragmentOffsetZeroStartsAFrame) {
  // type-specific byte, 24-bit fragment offset, type, Q, width/8, height/8.
  EXPECT_TRUE(Starts(EntryPointFormat::kJpeg, {0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x28, 0x1e}));
  EXPECT_FALSE(Starts(EntryPointFormat::kJpeg, {0x00, 0x00, 0x05, 0x8c, 0x01, 0xff, 0x28, 0x1e}));
}

TEST(EntryPointTest, TruncatedPayloadsNeverStart) {
  EXPECT_FALSE(Starts(EntryPointFormat::kH264, {}));
  EXPECT_FALSE(Starts(EntryPointFormat::kH264, {0x18, 0x00}));
  EXPECT_FALSE(Starts(EntryPointFormat::kH264, {0x7c}));
  EXPECT_FALSE(Starts(EntryPointFormat::kH265, {0x40}));
  EXPECT_FALSE(Starts(EntryPointFormat::kH265, {0x62, 0x01}));
  EXPECT_FALSE(Starts(EntryPointFormat::kJpeg, {0x00, 0x00}));
}

}  // namespace
}  // namespace rtsptest::core
