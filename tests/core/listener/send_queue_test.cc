// SendQueue and SendWorkers: a frame's packets leave together, in order,
// whole; a reader that stops reading is cut off, never blocks the producer.
#include "core/listener/send_queue.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/listener/send_workers.h"
#include "gtest/gtest.h"
#include "tests/core/listener/socket_pair.h"

namespace rtsptest::core {
namespace {

// One `$`-framed RTP packet on `channel` with sequence number `seq`.
std::string Interleaved(uint8_t channel, uint16_t seq, bool marker, size_t payload = 20) {
  std::string rtp(12 + payload, 'x');
  rtp[0] = static_cast<char>(0x80);
  rtp[1] = static_cast<char>((marker ? 0x80 : 0) | 96);
  rtp[2] = static_cast<char>(seq >> 8);
  rtp[3] = static_cast<char>(seq & 0xff);
  std::string frame = {'$', static_cast<char>(channel), static_cast<char>(rtp.size() >> 8),
                       static_cast<char>(rtp.size() & 0xff)};
  return frame + rtp;
}

std::string Rtcp(uint8_t channel) {
  std::string sr(28, '\0');
  sr[0] = static_cast<char>(0x80);
  sr[1] = static_cast<char>(200);
  return std::string{'$', static_cast<char>(channel), 0, static_cast<char>(sr.size())} + sr;
}

TEST(EndsABatchTest, RtspMessagesEndABatch) {
  EXPECT_TRUE(EndsABatch("RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n"));
  EXPECT_TRUE(EndsABatch("HTTP/1.0 200 OK\r\n\r\n"));
}

TEST(EndsABatchTest, OnlyTheFramesLastPacketEndsIt) {
  EXPECT_FALSE(EndsABatch(Interleaved(0, 1, false)));
  EXPECT_TRUE(EndsABatch(Interleaved(0, 2, true)));
  // A buffer list: the marker in any packet of the write counts.
  EXPECT_TRUE(EndsABatch(Interleaved(0, 1, false) + Interleaved(0, 2, true)));
  EXPECT_FALSE(EndsABatch(Interleaved(0, 1, false) + Interleaved(2, 7, false)));
}

TEST(EndsABatchTest, RtcpEndsABatch) { EXPECT_TRUE(EndsABatch(Rtcp(1))); }

TEST(EndsABatchTest, TruncatedFramesNeverReadPastTheEnd) {
  const std::string packet = Interleaved(0, 1, true);
  EXPECT_TRUE(EndsABatch(packet.substr(0, 3)));  // not a whole header: flush
  EXPECT_FALSE(EndsABatch(packet.substr(0, 5)));
}

TEST(SendQueueTest, BytesLeaveOnlyWhenFlushedAndInOrder) {
  SocketPair pair;
  SendQueue queue(pair.writer());
  const std::string first = Interleaved(0, 1, false);
  const std::string second = Interleaved(0, 2, true);
  EXPECT_FALSE(queue.Append({first}));
  EXPECT_EQ(pair.Read(1, absl::Milliseconds(100)), "");
  EXPECT_TRUE(queue.Append({second.substr(0, 10), second.substr(10)}));
  EXPECT_FALSE(queue.Flush());
  EXPECT_EQ(pair.Read(first.size() + second.size()), first + second);
  EXPECT_EQ(queue.writes(), 1u);
  EXPECT_EQ(queue.bytes_sent(), first.size() + second.size());
}

TEST(SendQueueTest, AFullSocketKeepsTheRestForTheNextFlush) {
  SocketPair pair;
  int size = 4096;
  ASSERT_EQ(setsockopt(pair.writer(), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0);
  SendQueue queue(pair.writer());
  std::string sent;
  for (uint16_t seq = 0; seq < 200; ++seq) {
    const std::string packet = Interleaved(0, seq, true, 1000);
    queue.Append({packet});
    sent += packet;
  }
  EXPECT_TRUE(queue.Flush()) << "200 KB cannot fit a 4 KB socket buffer";
  std::string got;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (got.size() < sent.size() && absl::Now() < deadline) {
    got += pair.Read(sent.size() - got.size(), absl::Milliseconds(50));
    queue.Flush();
  }
  EXPECT_EQ(got.size(), sent.size());
  EXPECT_TRUE(got == sent) << "bytes arrived out of order or changed";
  EXPECT_FALSE(queue.cut_off());
}

TEST(SendQueueTest, SharedItemsAndOwnedWritesLeaveInQueueOrderThroughFullSockets) {
  // Two readers of the same shared items, each also given writes of its own
  // (an RTSP answer), through 4 KB socket buffers: more chunks than one
  // write takes, and writes that end inside a chunk.
  SocketPair pairs[2];
  std::unique_ptr<SendQueue> queues[2];
  std::string sent[2];
  for (int r = 0; r < 2; ++r) {
    int size = 4096;
    ASSERT_EQ(setsockopt(pairs[r].writer(), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0);
    queues[r] = std::make_unique<SendQueue>(pairs[r].writer());
  }
  for (uint16_t seq = 0; seq < 300; ++seq) {
    auto shared = std::make_shared<const std::string>(Interleaved(0, seq, seq % 3 == 0, 700));
    for (int r = 0; r < 2; ++r) {
      queues[r]->AppendShared(shared);
      sent[r] += *shared;
      if (seq % 7 == r) {
        const std::string own = absl::StrCat("RTSP/1.0 200 OK\r\nCSeq: ", seq, "\r\n\r\n");
        queues[r]->Append({own});
        sent[r] += own;
      }
    }
  }
  for (int r = 0; r < 2; ++r) {
    SCOPED_TRACE(r);
    std::string got;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (got.size() < sent[r].size() && absl::Now() < deadline) {
      queues[r]->Flush();
      got += pairs[r].Read(sent[r].size() - got.size(), absl::Milliseconds(20));
    }
    EXPECT_EQ(got.size(), sent[r].size());
    EXPECT_TRUE(got == sent[r]) << "bytes arrived out of order or changed";
    EXPECT_FALSE(queues[r]->cut_off());
  }
}

TEST(SendQueueTest, AReaderThatNeverReadsIsCutOffAndTheProducerNeverBlocks) {
  SocketPair pair;
  SendQueue queue(pair.writer());
  const std::string packet = Interleaved(0, 1, true, 1400);
  const absl::Time start = absl::Now();
  for (size_t queued = 0; queued <= SendQueue::kMaxQueuedBytes + packet.size();
       queued += packet.size()) {
    queue.Append({packet});
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_FALSE(queue.Flush());
  EXPECT_TRUE(queue.cut_off());
  EXPECT_FALSE(queue.Append({packet})) << "a cut-off queue takes nothing more";
  EXPECT_TRUE(pair.ReaderSeesEnd(absl::Seconds(5)));
}

TEST(SendQueueTest, CloseFlushesWhatItCanThenNeverWritesAgain) {
  SocketPair pair;
  SendQueue queue(pair.writer());
  const std::string answer = "RTSP/1.0 200 OK\r\nCSeq: 9\r\n\r\n";
  queue.Append({answer});
  queue.Close();
  EXPECT_EQ(pair.Read(answer.size()), answer);
  EXPECT_FALSE(queue.Append({answer}));
  EXPECT_FALSE(queue.Flush());
  EXPECT_EQ(pair.Read(1, absl::Milliseconds(100)), "");
}

TEST(SendWorkersTest, UrgentBatchesLeaveAtOnceAndOthersWithinTheLazyBound) {
  SendWorkers workers(2);
  SocketPair pair;
  auto queue = std::make_shared<SendQueue>(pair.writer());
  const std::string frame_start = Interleaved(0, 1, false);
  workers.Schedule(queue, queue->Append({frame_start}));
  // Not urgent: it still leaves, at the latest at the lazy flush.
  EXPECT_EQ(pair.Read(frame_start.size(), absl::Seconds(2)), frame_start);
  const std::string frame_end = Interleaved(0, 2, true);
  workers.Schedule(queue, queue->Append({frame_end}));
  EXPECT_EQ(pair.Read(frame_end.size(), absl::Seconds(2)), frame_end);
}

TEST(SendWorkersTest, ManyQueuesOnFewWorkersEachGetTheirOwnBytesInOrder) {
  SendWorkers workers(2);
  constexpr int kQueues = 16;
  constexpr int kPackets = 300;
  std::vector<std::unique_ptr<SocketPair>> pairs;
  std::vector<std::shared_ptr<SendQueue>> queues;
  std::vector<std::string> expected(kQueues);
  for (int i = 0; i < kQueues; ++i) {
    pairs.push_back(std::make_unique<SocketPair>());
    queues.push_back(std::make_shared<SendQueue>(pairs.back()->writer()));
  }
  for (int seq = 0; seq < kPackets; ++seq) {
    for (int i = 0; i < kQueues; ++i) {
      const std::string packet =
          Interleaved(static_cast<uint8_t>(i), static_cast<uint16_t>(seq), seq % 3 == 2);
      expected[i] += packet;
      workers.Schedule(queues[i], queues[i]->Append({packet}));
    }
  }
  for (int i = 0; i < kQueues; ++i) {
    const std::string got = pairs[i]->Read(expected[i].size());
    EXPECT_TRUE(got == expected[i]) << "queue " << i << ": " << got.size() << " of "
                                    << expected[i].size() << " bytes, or out of order";
    EXPECT_LT(queues[i]->writes(), static_cast<uint64_t>(kPackets))
        << "packets of a frame should share a write";
  }
}

TEST(SendWorkersTest, QueuesAreSpreadOverEveryWorker) {
  SendWorkers workers(3);
  std::vector<int> per_worker(workers.size());
  std::vector<std::unique_ptr<SendQueue>> queues;
  for (int i = 0; i < 300; ++i) {
    queues.push_back(std::make_unique<SendQueue>(-1));
    ++per_worker[workers.WorkerOf(*queues.back())];
  }
  for (size_t w = 0; w < per_worker.size(); ++w) {
    EXPECT_EQ(per_worker[w], 100) << "worker " << w;
  }
}

}  // namespace
}  // namespace rtsptest::core
