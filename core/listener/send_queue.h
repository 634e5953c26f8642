// SendQueue: one RTSP connection's outgoing bytes, written to its socket in
// batches by a send worker (send_workers.h) rather than by whoever produced
// them.
//
// Why: gst-rtsp-server writes every RTP packet to every TCP reader with one
// sendmsg() on the stream's single send thread. On loopback and in VMs the
// kernel's per-call cost dominates (a 500 kbit/s H.264 stream is ~4.6
// packets a frame: delimiter, SEI, slices, filler), and one thread per
// stream caps a stream's fan-out at one core. Queued here, a frame's packets
// leave in one write, at the end of the frame, from one of several workers.
//
// Bytes are queued as chunks: gst-rtsp-server's writes run together into
// chunks the queue owns, and a fan-out item (fan_out.h) is one chunk shared
// by every reader it goes to, so a reader that falls behind holds
// references, not copies: the memory of a stream's backlog does not grow
// with its readers. A flush writes up to kMaxChunksPerWrite chunks with one
// sendmsg().
//
// Threads: Append() runs on gst-rtsp-server's threads (the stream's send
// thread, client threads), AppendShared() on send workers; Flush() on the
// connection's worker; Close() on whichever thread closes the connection.
// Two locks: `append_mu_` guards what producers add, `send_mu_` every use of
// the socket's descriptor, so that Close() never lets the descriptor go while
// a worker writes to it.
#ifndef RTSPTEST_CORE_LISTENER_SEND_QUEUE_H_
#define RTSPTEST_CORE_LISTENER_SEND_QUEUE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace rtsptest::core {

// Whether `written`, one write of gst-rtsp-server (whole RTSP messages:
// responses, or `$`-framed interleaved packets), ends a batch: it holds an
// RTSP message that is not data, an RTP packet with the marker bit (the last
// packet of a video frame), or an RTCP packet (payload types 200-204 have
// that bit set too). Other packets wait for the end of their frame.
bool EndsABatch(absl::string_view written);

class SendQueue {
 public:
  // Bytes queued past which the reader is cut off: it has fallen seconds
  // behind any stream this server makes.
  static constexpr size_t kMaxQueuedBytes = 4 << 20;
  static constexpr size_t kMaxChunksPerWrite = 64;

  // Writes to descriptor `fd`, which the caller keeps open until Close().
  explicit SendQueue(int fd);

  SendQueue(const SendQueue&) = delete;
  SendQueue& operator=(const SendQueue&) = delete;

  // Queues the bytes of one write, in order. Returns true when they end a
  // batch (EndsABatch); false also once the queue is closed or cut off.
  bool Append(absl::Span<const absl::string_view> parts);
  // Queues `bytes` (whole interleaved frames) without copying them.
  void AppendShared(std::shared_ptr<const std::string> bytes);

  // Writes what is queued without blocking. Returns true when bytes are
  // left because the socket is full (try again later). A reader past
  // kMaxQueuedBytes, or a socket error, shuts the socket down (the
  // connection's reader then sees it end) and drops the bytes.
  bool Flush();

  // Writes what it can without blocking, then never touches the descriptor
  // again. Call before the descriptor is closed.
  void Close();

  // For the worker's scheduling: set while the queue waits in a worker's
  // list, so that a queue is listed at most once.
  std::atomic<bool>& scheduled() { return scheduled_; }
  // Numbers queues in the order they are made: spreads them over workers.
  uint64_t id() const { return id_; }

  uint64_t bytes_sent() const { return bytes_sent_.load(std::memory_order_relaxed); }
  uint64_t writes() const { return writes_.load(std::memory_order_relaxed); }
  bool cut_off() const { return cut_off_.load(std::memory_order_relaxed); }
  // False once closed or cut off: appended bytes are dropped from then on.
  bool is_open() const { return open_.load(std::memory_order_relaxed); }

 private:
  // Queued bytes: a shared fan-out item, or gst-rtsp-server's writes.
  struct Chunk {
    std::shared_ptr<const std::string> shared;
    std::string owned;
    absl::string_view bytes() const { return shared != nullptr ? *shared : owned; }
  };

  bool FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(send_mu_);
  void CutOffLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(send_mu_);
  // Drops `n` written bytes from the front of unsent_.
  void ConsumeLocked(size_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(send_mu_);

  const int fd_;
  const uint64_t id_;
  std::atomic<bool> scheduled_{false};
  std::atomic<uint64_t> bytes_sent_{0};
  std::atomic<uint64_t> writes_{0};
  std::atomic<bool> cut_off_{false};
  // False once closed or cut off: Append() then drops what it is given.
  std::atomic<bool> open_{true};

  absl::Mutex append_mu_;
  std::vector<Chunk> pending_ ABSL_GUARDED_BY(append_mu_);
  size_t pending_bytes_ ABSL_GUARDED_BY(append_mu_) = 0;

  absl::Mutex send_mu_ ABSL_ACQUIRED_BEFORE(append_mu_);
  std::deque<Chunk> unsent_ ABSL_GUARDED_BY(send_mu_);
  size_t unsent_offset_ ABSL_GUARDED_BY(send_mu_) = 0;  // into unsent_.front()
  size_t unsent_bytes_ ABSL_GUARDED_BY(send_mu_) = 0;   // not written yet
  bool closed_ ABSL_GUARDED_BY(send_mu_) = false;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_LISTENER_SEND_QUEUE_H_
