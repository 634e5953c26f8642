// FanOut: see fan_out.h.
#include "core/listener/fan_out.h"

#include <cstdlib>
#include <utility>

#include "core/media/rtp_progress.h"

namespace rtsptest::core {
namespace {

GQuark FanOutQuark() {
  static const GQuark quark = g_quark_from_static_string("rtsptest-fan-out");
  return quark;
}

// Appends `packet` as an interleaved frame on `channel` (RFC 2326, 10.12).
void AppendFrame(GstBuffer* packet, uint8_t channel, std::string& out) {
  const gsize size = gst_buffer_get_size(packet);
  const size_t start = out.size();
  out.resize(start + 4 + size);
  out[start] = '$';
  out[start + 1] = static_cast<char>(channel);
  out[start + 2] = static_cast<char>((size >> 8) & 0xff);
  out[start + 3] = static_cast<char>(size & 0xff);
  gst_buffer_extract(packet, 0, out.data() + start + 4, size);
}

void AppendFrames(GstBuffer* packet, uint8_t channel, std::string& out) {
  AppendFrame(packet, channel, out);
}

void AppendFrames(GstBufferList* packets, uint8_t channel, std::string& out) {
  const guint n = gst_buffer_list_length(packets);
  for (guint i = 0; i < n; ++i) AppendFrame(gst_buffer_list_get(packets, i), channel, out);
}

uint64_t RtpBytes(GstBuffer* packet) { return gst_buffer_get_size(packet); }
uint64_t RtpBytes(GstBufferList* packets) { return gst_buffer_list_calculate_size(packets); }
uint64_t PacketCount(GstBuffer*) { return 1; }
uint64_t PacketCount(GstBufferList* packets) { return gst_buffer_list_length(packets); }

// True if sequence number `a` comes before `b` (RFC 1982 over 16 bits).
bool Before(uint16_t a, uint16_t b) {
  return static_cast<int16_t>(static_cast<uint16_t>(a - b)) < 0;
}

}  // namespace

bool FanOut::Enabled() {
  static const bool enabled = [] {
    const char* value = std::getenv("RTSP_TEST_FANOUT");
    return value == nullptr || std::string(value) != "off";
  }();
  return enabled;
}

std::shared_ptr<FanOut> FanOut::Attach(GstRTSPStream* stream, SendWorkers* workers) {
  if (!Enabled()) return nullptr;
  auto fan_out = std::make_shared<FanOut>(workers);
  g_object_set_qdata_full(G_OBJECT(stream), FanOutQuark(), new std::shared_ptr<FanOut>(fan_out),
                          [](gpointer p) { delete static_cast<std::shared_ptr<FanOut>*>(p); });
  return fan_out;
}

std::shared_ptr<FanOut> FanOut::Of(GstRTSPStream* stream) {
  auto* held =
      static_cast<std::shared_ptr<FanOut>*>(g_object_get_qdata(G_OBJECT(stream), FanOutQuark()));
  return held != nullptr ? *held : nullptr;
}

FanOut::FanOut(SendWorkers* workers) : workers_(workers) {
  for (size_t i = 0; i < workers->size(); ++i) shards_.push_back(std::make_unique<Shard>());
}

void FanOut::Deliver(GstBuffer* packet) { DeliverItem(packet, false); }
void FanOut::Deliver(GstBufferList* packets) { DeliverItem(packets, false); }
void FanOut::DeliverRtcp(GstBuffer* packet) { DeliverItem(packet, true); }
void FanOut::DeliverRtcp(GstBufferList* packets) { DeliverItem(packets, true); }

template <typename Item>
void FanOut::DeliverItem(Item* item, bool rtcp) {
  if (readers() == 0) return;
  auto framed = std::make_shared<Framed>();
  framed->rtcp = rtcp;
  if (!rtcp) {
    const int32_t first = FirstSequenceOf(item);
    if (first < 0) return;  // not RTP
    framed->first_sequence = static_cast<uint16_t>(first);
  }
  framed->rtp_bytes = RtpBytes(item);
  framed->packets = PacketCount(item);
  const auto& channel_readers = channel_readers_[rtcp ? 1 : 0];
  for (size_t channel = 0; channel < channel_readers.size(); ++channel) {
    if (channel_readers[channel].load(std::memory_order_relaxed) <= 0) continue;
    std::string bytes;
    AppendFrames(item, static_cast<uint8_t>(channel), bytes);
    if (framed->by_channel.empty()) framed->ends_batch = EndsABatch(bytes);
    framed->by_channel.emplace_back(static_cast<uint8_t>(channel),
                                    std::make_shared<const std::string>(std::move(bytes)));
  }
  for (size_t i = 0; i < shards_.size(); ++i) {
    if (shards_[i]->count.load(std::memory_order_relaxed) == 0) continue;
    workers_->Post(i, [self = shared_from_this(), i, framed] { self->Write(i, *framed); });
  }
}

bool FanOut::Join(const std::shared_ptr<Reader>& reader, uint8_t channel, uint8_t rtcp_channel,
                  uint16_t last_sequence) {
  Reader::State waiting = Reader::State::kWaiting;
  // The fields are set before the reader is listed; its worker reads them
  // under the shard's lock.
  reader->channel_ = channel;
  reader->rtcp_channel_ = rtcp_channel;
  reader->first_sequence_ = static_cast<uint16_t>(last_sequence + 1);
  if (!reader->state_.compare_exchange_strong(waiting, Reader::State::kJoined)) return false;
  channel_readers_[0][channel].fetch_add(1, std::memory_order_relaxed);
  channel_readers_[1][rtcp_channel].fetch_add(1, std::memory_order_relaxed);
  Shard& shard = *shards_[workers_->WorkerOf(*reader->queue_)];
  {
    absl::MutexLock lock(&shard.mu);
    shard.readers.push_back(reader);
  }
  shard.count.fetch_add(1, std::memory_order_relaxed);
  readers_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

const std::shared_ptr<const std::string>* FanOut::Framed::For(uint8_t channel) const {
  for (const auto& [c, bytes] : by_channel) {
    if (c == channel) return &bytes;
  }
  return nullptr;
}

void FanOut::Write(size_t index, const Framed& item) {
  Shard& shard = *shards_[index];
  // Listed for writing after the lock is let go.
  thread_local std::vector<std::shared_ptr<SendQueue>> appended;
  appended.clear();
  {
    absl::MutexLock lock(&shard.mu);
    for (size_t i = 0; i < shard.readers.size();) {
      Reader& reader = *shard.readers[i];
      if (!reader.joined() || !reader.queue_->is_open()) {
        Drop(shard, i);
        continue;
      }
      ++i;
      if (item.rtcp) {
        if (!reader.started_) continue;  // its first RTP item is still to come
      } else if (!reader.started_) {
        if (Before(item.first_sequence, reader.first_sequence_)) continue;  // gst sent it
        reader.started_ = true;
      }
      const auto* bytes = item.For(item.rtcp ? reader.rtcp_channel_ : reader.channel_);
      if (bytes == nullptr) continue;  // framed before the reader joined
      reader.queue_->AppendShared(*bytes);
      if (!item.rtcp) {
        reader.bytes_.fetch_add(item.rtp_bytes, std::memory_order_relaxed);
        reader.packets_.fetch_add(item.packets, std::memory_order_relaxed);
      }
      appended.push_back(reader.queue_);
    }
  }
  // Written by this worker after the tasks that are already waiting: when it
  // falls behind, several items leave in one write per reader.
  workers_->Schedule(appended, item.ends_batch);
}

void FanOut::Drop(Shard& shard, size_t position) {
  std::swap(shard.readers[position], shard.readers.back());
  Reader& dropped = *shard.readers.back();
  channel_readers_[0][dropped.channel_].fetch_sub(1, std::memory_order_relaxed);
  channel_readers_[1][dropped.rtcp_channel_].fetch_sub(1, std::memory_order_relaxed);
  dropped.Leave();
  shard.readers.pop_back();
  shard.count.fetch_sub(1, std::memory_order_relaxed);
  readers_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace rtsptest::core
