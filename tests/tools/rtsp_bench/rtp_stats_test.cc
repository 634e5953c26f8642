// SequenceTracker and MediaClock: exact counts of lost, late and duplicate
// RTP packets, across the 16-bit wraparound, and the media rate.
#include "tools/rtsp_bench/rtp_stats.h"

#include <cstdint>
#include <initializer_list>
#include <string>

#include "gtest/gtest.h"

namespace rtsptest::tools::bench {
namespace {

SequenceTracker Feed(std::initializer_list<int> sequence) {
  SequenceTracker tracker;
  for (int s : sequence) tracker.Add(static_cast<uint16_t>(s));
  return tracker;
}

TEST(SequenceTrackerTest, InOrderHasNoGap) {
  SequenceTracker tracker;
  for (int s = 100; s < 1100; ++s) tracker.Add(static_cast<uint16_t>(s));
  EXPECT_EQ(tracker.received(), 1000);
  EXPECT_EQ(tracker.missing(), 0);
  EXPECT_EQ(tracker.gap_events(), 0);
  EXPECT_EQ(tracker.late(), 0);
  EXPECT_EQ(tracker.duplicates(), 0);
}

TEST(SequenceTrackerTest, CountsAKnownGap) {
  SequenceTracker tracker = Feed({10, 11, 12, 16, 17, 19});
  EXPECT_EQ(tracker.received(), 6);
  EXPECT_EQ(tracker.missing(), 4);  // 13, 14, 15, 18
  EXPECT_EQ(tracker.gap_events(), 2);
  EXPECT_EQ(tracker.late(), 0);
}

TEST(SequenceTrackerTest, WraparoundIsNotAGap) {
  SequenceTracker tracker = Feed({65533, 65534, 65535, 0, 1, 2});
  EXPECT_EQ(tracker.missing(), 0);
  EXPECT_EQ(tracker.gap_events(), 0);
  EXPECT_EQ(tracker.resyncs(), 0);
  EXPECT_EQ(tracker.highest(), 65535 + 3);
}

TEST(SequenceTrackerTest, CountsAGapAcrossTheWraparound) {
  SequenceTracker tracker = Feed({65533, 65534, 1, 2});  // 65535 and 0 lost
  EXPECT_EQ(tracker.missing(), 2);
  EXPECT_EQ(tracker.gap_events(), 1);
}

TEST(SequenceTrackerTest, LatePacketIsNotLost) {
  SequenceTracker tracker = Feed({1, 2, 4, 5, 3, 6});
  EXPECT_EQ(tracker.received(), 6);
  EXPECT_EQ(tracker.missing(), 0);
  EXPECT_EQ(tracker.late(), 1);
  EXPECT_EQ(tracker.duplicates(), 0);
}

TEST(SequenceTrackerTest, LatePacketAcrossTheWraparound) {
  SequenceTracker tracker = Feed({65534, 0, 65535, 1});
  EXPECT_EQ(tracker.missing(), 0);
  EXPECT_EQ(tracker.late(), 1);
}

TEST(SequenceTrackerTest, DuplicatesAreCountedApart) {
  SequenceTracker tracker = Feed({1, 2, 2, 3, 1, 3});
  EXPECT_EQ(tracker.received(), 6);
  EXPECT_EQ(tracker.duplicates(), 3);
  EXPECT_EQ(tracker.missing(), 0);
  EXPECT_EQ(tracker.late(), 0);
}

TEST(SequenceTrackerTest, LateThenDuplicateOfTheLatePacket) {
  SequenceTracker tracker = Feed({1, 3, 2, 2});
  EXPECT_EQ(tracker.late(), 1);
  EXPECT_EQ(tracker.duplicates(), 1);
  EXPECT_EQ(tracker.missing(), 0);
}

TEST(SequenceTrackerTest, PacketOlderThanTheFirstIsLateNotNegativeLoss) {
  SequenceTracker tracker = Feed({10, 11, 9});
  EXPECT_EQ(tracker.late(), 1);
  EXPECT_EQ(tracker.missing(), 0);
}

TEST(SequenceTrackerTest, HugeJumpRestartsInsteadOfCountingLoss) {
  SequenceTracker tracker = Feed({1, 2, 20000, 20001});
  EXPECT_EQ(tracker.resyncs(), 1);
  EXPECT_EQ(tracker.missing(), 0);
}

TEST(SequenceTrackerTest, ManyWrapsWithPeriodicLoss) {
  SequenceTracker tracker;
  int64_t skipped = 0;
  for (int n = 0; n < 3 * 65536; ++n) {
    if (n % 1000 == 999) {
      ++skipped;
      continue;
    }
    tracker.Add(static_cast<uint16_t>(n + 65000));
  }
  EXPECT_EQ(tracker.missing(), skipped);
  EXPECT_EQ(tracker.gap_events(), skipped);
  EXPECT_EQ(tracker.resyncs(), 0);
}

TEST(MediaClockTest, RealTimeIsOne) {
  MediaClock clock;
  // 25 fps at 90 kHz for 2 s.
  for (int i = 0; i <= 50; ++i) clock.Add(static_cast<uint32_t>(1000 + i * 3600), i * 40'000);
  EXPECT_DOUBLE_EQ(clock.Rate(90000, 0), 1.0);
}

TEST(MediaClockTest, HalfSpeedAndTimestampWrap) {
  MediaClock clock;
  const uint32_t start = 0xffffffffu - 3600 * 10;
  for (int i = 0; i <= 50; ++i) clock.Add(start + static_cast<uint32_t>(i * 3600), i * 80'000);
  EXPECT_DOUBLE_EQ(clock.Rate(90000, 0), 0.5);
}

TEST(MediaClockTest, UnknownWithoutClockOrWallTime) {
  MediaClock clock;
  clock.Add(0, 0);
  EXPECT_EQ(clock.Rate(90000, 0), 0);
  clock.Add(3600, 40'000);
  EXPECT_EQ(clock.Rate(0, 0), 0);
  EXPECT_EQ(clock.Rate(90000, 1'000'000), 0);
}

TEST(RtpHeaderTest, ReadsSequenceTimestampAndSsrc) {
  const std::string packet("\x80\x60\xff\xfe\x01\x02\x03\x04\xaa\xbb\xcc\xdd payload", 20);
  RtpHeader header;
  ASSERT_TRUE(ParseRtpHeader(packet, &header));
  EXPECT_EQ(header.sequence, 0xfffe);
  EXPECT_EQ(header.timestamp, 0x01020304u);
  EXPECT_EQ(header.ssrc, 0xaabbccddu);
  EXPECT_FALSE(ParseRtpHeader(packet.substr(0, 11), &header));
  EXPECT_FALSE(ParseRtpHeader(std::string(12, '\0'), &header));  // version 0
}

}  // namespace
}  // namespace rtsptest::tools::bench
