// RTP sequence and clock accounting (see rtp_stats.h).
#include "tools/rtsp_bench/rtp_stats.h"

namespace rtsptest::tools::bench {

size_t SequenceTracker::Bit(int64_t number) {
  return static_cast<size_t>(((number % kWindow) + kWindow) % kWindow);
}

void SequenceTracker::Restart(uint16_t sequence) {
  started_ = true;
  highest_ = sequence;
  first_ = sequence;
  seen_.reset();
  seen_.set(Bit(highest_));
}

void SequenceTracker::Add(uint16_t sequence) {
  ++received_;
  if (!started_) {
    Restart(sequence);
    return;
  }
  // The signed 16-bit distance from the highest number: the wraparound
  // 65535 -> 0 is +1, not -65535.
  const int delta = static_cast<int16_t>(static_cast<uint16_t>(sequence - (highest_ & 0xffff)));
  if (delta > kMaxDropout || delta <= -kWindow) {
    ++resyncs_;
    Restart(sequence);
    return;
  }
  if (delta > 0) {
    if (delta > 1) {
      missing_ += delta - 1;
      ++gap_events_;
    }
    for (int64_t n = highest_ + 1; n <= highest_ + delta && n - highest_ <= kWindow; ++n) {
      seen_.reset(Bit(n));
    }
    highest_ += delta;
    seen_.set(Bit(highest_));
    return;
  }
  const int64_t number = highest_ + delta;
  if (seen_.test(Bit(number))) {
    ++duplicates_;
    return;
  }
  seen_.set(Bit(number));
  ++late_;
  // Older than the first packet: late, but it was never counted missing.
  if (number >= first_) {
    --missing_;
  } else {
    first_ = number;
  }
}

void MediaClock::Add(uint32_t rtp_timestamp, int64_t arrival_us) {
  if (packets_++ == 0) {
    first_arrival_us_ = arrival_us;
  } else {
    unrolled_ += static_cast<int32_t>(rtp_timestamp - last_timestamp_);
    if (unrolled_ > highest_) highest_ = unrolled_;
  }
  last_timestamp_ = rtp_timestamp;
  last_arrival_us_ = arrival_us;
}

double MediaClock::Rate(int clock_rate, int64_t min_wall_us) const {
  const int64_t wall = wall_span_us();
  if (clock_rate <= 0 || wall <= 0 || wall < min_wall_us) return 0;
  return (static_cast<double>(highest_) / clock_rate) / (static_cast<double>(wall) / 1e6);
}

bool ParseRtpHeader(absl::string_view packet, RtpHeader* header) {
  if (packet.size() < 12) return false;
  const auto* p = reinterpret_cast<const uint8_t*>(packet.data());
  if ((p[0] >> 6) != 2) return false;
  header->sequence = static_cast<uint16_t>((p[2] << 8) | p[3]);
  header->timestamp =
      (uint32_t{p[4]} << 24) | (uint32_t{p[5]} << 16) | (uint32_t{p[6]} << 8) | p[7];
  header->ssrc = (uint32_t{p[8]} << 24) | (uint32_t{p[9]} << 16) | (uint32_t{p[10]} << 8) | p[11];
  return true;
}

}  // namespace rtsptest::tools::bench
