// SendQueue: see send_queue.h.
#include "core/listener/send_queue.h"

#include <sys/socket.h>

#include <cerrno>

namespace rtsptest::core {
namespace {

// A reused buffer larger than this is given back after a write, so that a
// burst (a key frame of a big stream) does not pin memory per reader.
constexpr size_t kKeptCapacity = 64 << 10;

uint64_t NextId() {
  static std::atomic<uint64_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

bool EndsABatch(absl::string_view written) {
  size_t pos = 0;
  while (pos < written.size()) {
    if (written[pos] != '$') return true;  // an RTSP (or HTTP) message
    if (written.size() - pos < 4) return true;
    const size_t length =
        (static_cast<uint8_t>(written[pos + 2]) << 8) | static_cast<uint8_t>(written[pos + 3]);
    // Byte 1 of an RTP header: marker and payload type; of RTCP: the type.
    if (length >= 2 && pos + 5 < written.size() &&
        (static_cast<uint8_t>(written[pos + 5]) & 0x80) != 0) {
      return true;
    }
    pos += 4 + length;
  }
  return false;
}

SendQueue::SendQueue(int fd) : fd_(fd), id_(NextId()) {}

bool SendQueue::Append(absl::Span<const absl::string_view> parts) {
  if (!open_.load(std::memory_order_relaxed)) return false;
  absl::MutexLock lock(&append_mu_);
  const size_t start = pending_.size();
  for (absl::string_view part : parts) pending_.append(part.data(), part.size());
  return EndsABatch(absl::string_view(pending_).substr(start));
}

bool SendQueue::Flush() {
  absl::MutexLock lock(&send_mu_);
  return FlushLocked();
}

void SendQueue::Close() {
  absl::MutexLock lock(&send_mu_);
  if (closed_) return;
  FlushLocked();
  closed_ = true;
  open_.store(false, std::memory_order_relaxed);
  unsent_ = std::string();
  absl::MutexLock append_lock(&append_mu_);
  pending_ = std::string();
}

bool SendQueue::FlushLocked() {
  if (closed_) return false;
  {
    absl::MutexLock lock(&append_mu_);
    if (unsent_offset_ == unsent_.size()) {
      unsent_.clear();
      unsent_offset_ = 0;
      unsent_.swap(pending_);
    } else {
      unsent_.append(pending_);
      pending_.clear();
    }
    if (pending_.capacity() > kKeptCapacity) pending_ = std::string();
  }
  if (unsent_.size() - unsent_offset_ > kMaxQueuedBytes) {
    CutOffLocked();
    return false;
  }
  while (unsent_offset_ < unsent_.size()) {
    const ssize_t n = ::send(fd_, unsent_.data() + unsent_offset_, unsent_.size() - unsent_offset_,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      unsent_offset_ += static_cast<size_t>(n);
      bytes_sent_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      writes_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    CutOffLocked();  // the peer is gone; its reader will see the end
    return false;
  }
  unsent_.clear();
  unsent_offset_ = 0;
  if (unsent_.capacity() > kKeptCapacity) unsent_ = std::string();
  return false;
}

void SendQueue::CutOffLocked() {
  cut_off_.store(true, std::memory_order_relaxed);
  ::shutdown(fd_, SHUT_RDWR);
  closed_ = true;
  open_.store(false, std::memory_order_relaxed);
  unsent_ = std::string();
  unsent_offset_ = 0;
  absl::MutexLock lock(&append_mu_);
  pending_ = std::string();
}

}  // namespace rtsptest::core
