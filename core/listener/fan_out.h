// FanOut: one track's RTP, framed once and written to its TCP readers by
// the send workers (send_workers.h), instead of one reader at a time on
// gst-rtsp-server's send thread.
//
// Why: gst-rtsp-server hands every RTP item to every TCP reader on the
// stream's single send thread (rtsp-stream.c, send_tcp_message): per reader
// a backlog, the client's locks, an RTSP message, the connection's watch and
// a write. Past about 1,500 readers of one stream that thread is the limit of
// the whole server, whatever the cores (docs/benchmarks.md, "Fan-out").
//
// How: the stream's anchor transport (core/media/shared_media_keeper.h),
// which is handed every item once, calls Deliver(). The item is framed once
// per interleaved channel in use (`$`, channel, length, packet) and posted to
// every send worker that has readers here; each worker appends it to its own
// readers' queues and writes them out. The send thread's work per item no
// longer grows with the readers' bytes, and one stream uses every core.
//
// A reader is handed over after gst-rtsp-server has sent it an item itself,
// so the key-frame gate still chooses where a reader starts: its transport's
// send callback (transport_counter.h) calls Join() with that item's last
// sequence number, the fan-out writes from the next one on, and the callback
// only counts from then. The fan-out also writes the track's RTCP (the
// sender reports) to the readers it has started, so that the transport can
// then be taken out of gst-rtsp-server's send loop altogether
// (transport_counter.h). gst-rtsp-server keeps the transport, the session
// and every RTSP answer. A reader that pauses is handed back for good
// (Reader::Leave); one whose connection closes is dropped.
#ifndef RTSPTEST_CORE_LISTENER_FAN_OUT_H_
#define RTSPTEST_CORE_LISTENER_FAN_OUT_H_

#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/listener/send_queue.h"
#include "core/listener/send_workers.h"

namespace rtsptest::core {

class FanOut : public std::enable_shared_from_this<FanOut> {
 public:
  // One TCP reader of the track: made at its SETUP, joined after its first
  // item. Leave() may be called from any thread, at any time.
  class Reader {
   public:
    explicit Reader(std::shared_ptr<SendQueue> queue) : queue_(std::move(queue)) {}

    // True while the fan-out writes this reader's RTP.
    bool joined() const { return state_.load(std::memory_order_acquire) == State::kJoined; }
    // True until Join() or Leave().
    bool waiting() const { return state_.load(std::memory_order_acquire) == State::kWaiting; }
    // Hands the reader back to gst-rtsp-server for good (a PAUSE, a
    // transport that goes away). Items already framed for it are dropped.
    void Leave() { state_.store(State::kLeft, std::memory_order_release); }

    // RTP the fan-out has queued for this reader (without the framing).
    uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
    uint64_t packets() const { return packets_.load(std::memory_order_relaxed); }

   private:
    friend class FanOut;
    enum class State { kWaiting, kJoined, kLeft };

    const std::shared_ptr<SendQueue> queue_;
    std::atomic<State> state_{State::kWaiting};
    // Set by Join(); read by the reader's worker.
    uint8_t channel_ = 0;
    uint8_t rtcp_channel_ = 1;
    uint16_t first_sequence_ = 0;
    // The reader's worker only: the first item has been written.
    bool started_ = false;
    std::atomic<uint64_t> bytes_{0};
    std::atomic<uint64_t> packets_{0};
  };

  // RTSP_TEST_FANOUT=off leaves every reader to gst-rtsp-server's send
  // thread: for side-by-side benchmarks, and to rule the fan-out out.
  static bool Enabled();

  // Gives `stream` a fan-out written by `workers` (borrowed; they must
  // outlive it), kept as long as the stream. Null when not Enabled().
  static std::shared_ptr<FanOut> Attach(GstRTSPStream* stream, SendWorkers* workers);
  // The fan-out of `stream`, or null.
  static std::shared_ptr<FanOut> Of(GstRTSPStream* stream);

  explicit FanOut(SendWorkers* workers);

  FanOut(const FanOut&) = delete;
  FanOut& operator=(const FanOut&) = delete;

  // One RTP item of the track, on the stream's send thread, in order.
  void Deliver(GstBuffer* packet);
  void Deliver(GstBufferList* packets);
  // One RTCP item of the track (sender reports), on the same thread. Goes
  // to the readers that have had their first RTP item from the fan-out.
  void DeliverRtcp(GstBuffer* packet);
  void DeliverRtcp(GstBufferList* packets);

  // Writes `reader`'s RTP on interleaved `channel` from the item after the
  // one whose last sequence number is `last_sequence`, and its RTCP on
  // `rtcp_channel`. On the stream's send thread, between two items. False
  // (and nothing changes) unless the reader is waiting.
  bool Join(const std::shared_ptr<Reader>& reader, uint8_t channel, uint8_t rtcp_channel,
            uint16_t last_sequence);

  // Readers joined now.
  size_t readers() const { return readers_.load(std::memory_order_relaxed); }
  // Joined readers whose transports gst-rtsp-server no longer lists
  // (transport_counter.h), so that reader counts can still include them.
  void CountUnlisted(int delta) { unlisted_.fetch_add(delta, std::memory_order_relaxed); }
  int unlisted() const { return unlisted_.load(std::memory_order_relaxed); }

 private:
  // One item, framed for each channel in use; shared by the workers' tasks.
  struct Framed {
    bool rtcp = false;
    uint16_t first_sequence = 0;
    bool ends_batch = false;
    uint64_t rtp_bytes = 0;
    uint64_t packets = 0;
    std::vector<std::pair<uint8_t, std::shared_ptr<const std::string>>> by_channel;
    const std::shared_ptr<const std::string>* For(uint8_t channel) const;
  };
  // The readers one worker writes.
  struct Shard {
    absl::Mutex mu;
    std::vector<std::shared_ptr<Reader>> readers ABSL_GUARDED_BY(mu);
    std::atomic<size_t> count{0};
  };

  template <typename Item>
  void DeliverItem(Item* item, bool rtcp);
  // On worker `index`: appends `item` to that worker's readers and writes
  // out those whose batch it ends.
  void Write(size_t index, const Framed& item);
  void Drop(Shard& shard, size_t position) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  SendWorkers* const workers_;
  std::vector<std::unique_ptr<Shard>> shards_;  // one per worker
  std::atomic<size_t> readers_{0};
  std::atomic<int> unlisted_{0};
  // Readers per interleaved channel: [0] of RTP, [1] of RTCP.
  std::array<std::array<std::atomic<int>, 256>, 2> channel_readers_{};
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_LISTENER_FAN_OUT_H_
