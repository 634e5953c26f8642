// SendQueue: see send_queue.h.
#include "core/listener/send_queue.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <utility>

namespace rtsptest::core {
namespace {

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
  size_t size = 0;
  for (absl::string_view part : parts) size += part.size();
  if (size == 0) return false;
  absl::MutexLock lock(&append_mu_);
  if (pending_.empty() || pending_.back().shared != nullptr) pending_.emplace_back();
  std::string& owned = pending_.back().owned;
  const size_t start = owned.size();
  for (absl::string_view part : parts) owned.append(part.data(), part.size());
  pending_bytes_ += size;
  return EndsABatch(absl::string_view(owned).substr(start));
}

void SendQueue::AppendShared(std::shared_ptr<const std::string> bytes) {
  if (!open_.load(std::memory_order_relaxed) || bytes->empty()) return;
  absl::MutexLock lock(&append_mu_);
  pending_bytes_ += bytes->size();
  pending_.push_back(Chunk{std::move(bytes), {}});
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
  unsent_.clear();
  absl::MutexLock append_lock(&append_mu_);
  pending_.clear();
}

bool SendQueue::FlushLocked() {
  if (closed_) return false;
  {
    absl::MutexLock lock(&append_mu_);
    for (Chunk& chunk : pending_) unsent_.push_back(std::move(chunk));
    pending_.clear();
    unsent_bytes_ += pending_bytes_;
    pending_bytes_ = 0;
  }
  if (unsent_bytes_ > kMaxQueuedBytes) {
    CutOffLocked();
    return false;
  }
  iovec parts[kMaxChunksPerWrite];
  while (!unsent_.empty()) {
    size_t count = 0;
    for (auto it = unsent_.begin(); it != unsent_.end() && count < kMaxChunksPerWrite; ++it) {
      absl::string_view bytes = it->bytes();
      if (count == 0) bytes.remove_prefix(unsent_offset_);
      parts[count++] = {const_cast<char*>(bytes.data()), bytes.size()};
    }
    msghdr message = {};
    message.msg_iov = parts;
    message.msg_iovlen = count;
    const ssize_t n = ::sendmsg(fd_, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      ConsumeLocked(static_cast<size_t>(n));
      bytes_sent_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      writes_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    CutOffLocked();  // the peer is gone; its reader will see the end
    return false;
  }
  return false;
}

void SendQueue::ConsumeLocked(size_t n) {
  unsent_bytes_ -= n;
  n += unsent_offset_;
  while (!unsent_.empty() && n >= unsent_.front().bytes().size()) {
    n -= unsent_.front().bytes().size();
    unsent_.pop_front();
  }
  unsent_offset_ = n;
}

void SendQueue::CutOffLocked() {
  cut_off_.store(true, std::memory_order_relaxed);
  ::shutdown(fd_, SHUT_RDWR);
  closed_ = true;
  open_.store(false, std::memory_order_relaxed);
  unsent_.clear();
  unsent_offset_ = 0;
  unsent_bytes_ = 0;
  absl::MutexLock lock(&append_mu_);
  pending_.clear();
  pending_bytes_ = 0;
}

}  // namespace rtsptest::core
