// FanOut: each joined reader gets every RTP item after its join point, framed
// on its own interleaved channel, in order, and the track's RTCP once it has
// started; nothing before it, nothing after it leaves; and a reader whose
// connection closed is let go.
#include "core/listener/fan_out.h"

#include <gst/rtp/gstrtpbuffer.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/listener/send_queue.h"
#include "core/listener/send_workers.h"
#include "gtest/gtest.h"
#include "tests/core/listener/socket_pair.h"

namespace rtsptest::core {
namespace {

constexpr size_t kPayload = 100;
// One interleaved frame: `$`, channel, 2 length bytes, 12 header bytes.
constexpr size_t kFrameSize = 4 + 12 + kPayload;

// An RTP packet with sequence number `seq`; the marker ends a video frame.
GstBuffer* Packet(uint16_t seq, bool marker = true) {
  GstBuffer* buffer = gst_rtp_buffer_new_allocate(kPayload, 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  EXPECT_TRUE(gst_rtp_buffer_map(buffer, GST_MAP_WRITE, &rtp));
  gst_rtp_buffer_set_seq(&rtp, seq);
  gst_rtp_buffer_set_marker(&rtp, marker);
  gst_rtp_buffer_set_payload_type(&rtp, 96);
  gst_rtp_buffer_unmap(&rtp);
  return buffer;
}

void Deliver(FanOut& fan_out, uint16_t seq) {
  GstBuffer* packet = Packet(seq);
  fan_out.Deliver(packet);
  gst_buffer_unref(packet);
}

// An RTCP sender report of the same size as Packet(); Frames() reads its
// length field (bytes 2-3) where an RTP packet has its sequence number.
constexpr int kRtcpMark = 7777;
void DeliverRtcp(FanOut& fan_out) {
  std::string bytes(12 + kPayload, '\0');
  bytes[0] = static_cast<char>(0x80);
  bytes[1] = static_cast<char>(200);
  bytes[2] = static_cast<char>(kRtcpMark >> 8);
  bytes[3] = static_cast<char>(kRtcpMark & 0xff);
  GstBuffer* packet = gst_buffer_new_memdup(bytes.data(), bytes.size());
  fan_out.DeliverRtcp(packet);
  gst_buffer_unref(packet);
}

// What came over the wire: (channel, sequence number) per frame.
struct Frame {
  int channel;
  int seq;
  bool operator==(const Frame& other) const { return channel == other.channel && seq == other.seq; }
};
std::vector<Frame> Frames(const std::string& wire) {
  std::vector<Frame> frames;
  for (size_t pos = 0; pos + kFrameSize <= wire.size(); pos += kFrameSize) {
    EXPECT_EQ(wire[pos], '$');
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(wire[pos + i]); };
    EXPECT_EQ((byte(2) << 8) | byte(3), static_cast<int>(12 + kPayload));
    frames.push_back({byte(1), (byte(4 + 2) << 8) | byte(4 + 3)});
  }
  EXPECT_EQ(wire.size() % kFrameSize, 0u) << "a frame was cut";
  return frames;
}

class FanOutTest : public ::testing::Test {
 protected:
  // A reader of the fan-out, writing to its own socket pair.
  struct Reader {
    SocketPair wire;
    std::shared_ptr<SendQueue> queue = std::make_shared<SendQueue>(wire.writer());
    std::shared_ptr<FanOut::Reader> member = std::make_shared<FanOut::Reader>(queue);
  };

  explicit FanOutTest(size_t workers = 2) : workers_(workers) {}

  SendWorkers workers_;
  std::shared_ptr<FanOut> fan_out_ = std::make_shared<FanOut>(&workers_);
};

TEST_F(FanOutTest, AJoinedReaderGetsEveryLaterItemInOrderAndNothingBefore) {
  Reader reader;
  Deliver(*fan_out_, 10);  // nobody joined: goes nowhere
  ASSERT_TRUE(fan_out_->Join(reader.member, 0, 1, 10));
  for (uint16_t seq = 11; seq <= 30; ++seq) Deliver(*fan_out_, seq);

  std::vector<Frame> expected;
  for (int seq = 11; seq <= 30; ++seq) expected.push_back({0, seq});
  EXPECT_EQ(Frames(reader.wire.Read(20 * kFrameSize)), expected);
  EXPECT_EQ(reader.member->packets(), 20u);
  EXPECT_EQ(reader.member->bytes(), 20u * (12 + kPayload));
}

TEST_F(FanOutTest, ItemsUpToTheJoinPointAreLeftToGstEvenIfFramedLater) {
  // The item gst-rtsp-server sent itself (seq 41) may still be on its way to
  // the worker when the reader joins; the reader must not get it twice.
  Reader early;
  ASSERT_TRUE(fan_out_->Join(early.member, 0, 1, 39));
  Deliver(*fan_out_, 40);
  Deliver(*fan_out_, 41);
  Reader late;
  ASSERT_TRUE(fan_out_->Join(late.member, 0, 1, 41));
  Deliver(*fan_out_, 42);

  EXPECT_EQ(Frames(late.wire.Read(kFrameSize)), (std::vector<Frame>{{0, 42}}));
  EXPECT_EQ(Frames(early.wire.Read(3 * kFrameSize)),
            (std::vector<Frame>{{0, 40}, {0, 41}, {0, 42}}));
}

TEST_F(FanOutTest, EachReaderGetsItsOwnInterleavedChannel) {
  Reader on_zero, on_four;
  ASSERT_TRUE(fan_out_->Join(on_zero.member, 0, 1, 99));
  ASSERT_TRUE(fan_out_->Join(on_four.member, 4, 5, 99));
  Deliver(*fan_out_, 100);

  EXPECT_EQ(Frames(on_zero.wire.Read(kFrameSize)), (std::vector<Frame>{{0, 100}}));
  EXPECT_EQ(Frames(on_four.wire.Read(kFrameSize)), (std::vector<Frame>{{4, 100}}));
}

TEST_F(FanOutTest, RtcpGoesOnTheRtcpChannelOnlyToReadersThatHaveStarted) {
  Reader started, waiting;
  ASSERT_TRUE(fan_out_->Join(started.member, 2, 3, 9));
  ASSERT_TRUE(fan_out_->Join(waiting.member, 0, 1, 20));  // starts at 21
  Deliver(*fan_out_, 10);
  DeliverRtcp(*fan_out_);
  Deliver(*fan_out_, 21);
  DeliverRtcp(*fan_out_);

  EXPECT_EQ(Frames(started.wire.Read(4 * kFrameSize)),
            (std::vector<Frame>{{2, 10}, {3, kRtcpMark}, {2, 21}, {3, kRtcpMark}}));
  EXPECT_EQ(Frames(waiting.wire.Read(2 * kFrameSize)),
            (std::vector<Frame>{{0, 21}, {1, kRtcpMark}}));
  // RTCP is not counted as RTP.
  EXPECT_EQ(started.member->packets(), 2u);
}

TEST_F(FanOutTest, TheJoinPointHoldsAcrossTheSequenceNumberWrap) {
  Reader reader;
  ASSERT_TRUE(fan_out_->Join(reader.member, 0, 1, 65534));
  Deliver(*fan_out_, 65534);  // before the join point
  Deliver(*fan_out_, 65535);
  Deliver(*fan_out_, 0);
  Deliver(*fan_out_, 1);

  EXPECT_EQ(Frames(reader.wire.Read(3 * kFrameSize)),
            (std::vector<Frame>{{0, 65535}, {0, 0}, {0, 1}}));
}

// With one worker, a reader's bytes arriving means the worker has been
// through every reader for that item (it writes after it has gone through
// them all): what another reader did not get by then, it never gets.
class OneWorkerFanOutTest : public FanOutTest {
 protected:
  OneWorkerFanOutTest() : FanOutTest(1) {}
};

TEST_F(OneWorkerFanOutTest, AReaderThatLeftGetsNothingMoreAndCannotJoinAgain) {
  Reader leaves, stays;
  ASSERT_TRUE(fan_out_->Join(leaves.member, 0, 1, 0));
  ASSERT_TRUE(fan_out_->Join(stays.member, 0, 1, 0));
  Deliver(*fan_out_, 1);
  ASSERT_EQ(Frames(leaves.wire.Read(kFrameSize)).size(), 1u);

  leaves.member->Leave();
  EXPECT_FALSE(leaves.member->joined());
  EXPECT_FALSE(fan_out_->Join(leaves.member, 0, 1, 1));
  Deliver(*fan_out_, 2);
  ASSERT_EQ(Frames(stays.wire.Read(2 * kFrameSize)).size(), 2u);
  EXPECT_EQ(leaves.wire.Read(1, absl::Milliseconds(100)), "");
  EXPECT_EQ(fan_out_->readers(), 1u);
}

TEST_F(OneWorkerFanOutTest, AReaderWhoseConnectionClosedIsLetGo) {
  Reader closes, stays;
  ASSERT_TRUE(fan_out_->Join(closes.member, 0, 1, 0));
  ASSERT_TRUE(fan_out_->Join(stays.member, 0, 1, 0));
  ASSERT_EQ(fan_out_->readers(), 2u);
  closes.queue->Close();
  Deliver(*fan_out_, 1);
  ASSERT_EQ(Frames(stays.wire.Read(kFrameSize)).size(), 1u);

  EXPECT_EQ(fan_out_->readers(), 1u);
  EXPECT_FALSE(closes.member->joined());
}

TEST_F(FanOutTest, ManyReadersOnEveryWorkerEachGetTheWholeStream) {
  constexpr int kReaders = 40;
  constexpr int kItems = 50;
  std::vector<std::unique_ptr<Reader>> readers;
  for (int i = 0; i < kReaders; ++i) {
    readers.push_back(std::make_unique<Reader>());
    ASSERT_TRUE(fan_out_->Join(readers.back()->member, 0, 1, 999));
  }
  for (int i = 0; i < kItems; ++i) Deliver(*fan_out_, static_cast<uint16_t>(1000 + i));

  std::vector<Frame> expected;
  for (int i = 0; i < kItems; ++i) expected.push_back({0, 1000 + i});
  for (int i = 0; i < kReaders; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(Frames(readers[i]->wire.Read(kItems * kFrameSize)), expected);
  }
}

}  // namespace
}  // namespace rtsptest::core
