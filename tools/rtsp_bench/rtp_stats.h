// RTP accounting of one reader's track: sequence numbers (lost, late and
// duplicate packets, 16-bit wraparound) and the media clock (RTP time over
// wall time), kept apart from any socket so that tests can feed them.
#ifndef RTSPTEST_TOOLS_RTSP_BENCH_RTP_STATS_H_
#define RTSPTEST_TOOLS_RTSP_BENCH_RTP_STATS_H_

#include <bitset>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace rtsptest::tools::bench {

// Counts one SSRC's packets by sequence number, in the spirit of RFC 3550
// A.1 but exact for a test tool: a missing number is `missing` until it
// arrives late (then it moves to `late`); a number seen twice is a
// duplicate. The sequence is unrolled past 65535 -> 0, so a wraparound is
// never a gap, and a gap across it is counted like any other.
class SequenceTracker {
 public:
  // How far back a late packet is still recognised (and a duplicate told
  // from it). Older packets, and jumps forward of more than kMaxDropout,
  // restart the count from that packet (a new sender or a stream restart),
  // counted in resyncs().
  static constexpr int kWindow = 1024;
  static constexpr int kMaxDropout = 3000;

  void Add(uint16_t sequence);

  int64_t received() const { return received_; }
  // Sequence numbers skipped and not (yet) arrived: lost packets.
  int64_t missing() const { return missing_; }
  // Discontinuities: how many times the sequence jumped forward by more than 1.
  int64_t gap_events() const { return gap_events_; }
  // Packets that arrived after a higher number (reordered, not lost).
  int64_t late() const { return late_; }
  int64_t duplicates() const { return duplicates_; }
  int64_t resyncs() const { return resyncs_; }
  // The highest sequence number, unrolled (first packet + its offset).
  int64_t highest() const { return highest_; }

 private:
  void Restart(uint16_t sequence);
  static size_t Bit(int64_t number);

  bool started_ = false;
  int64_t highest_ = 0;        // unrolled
  int64_t first_ = 0;          // unrolled, the lowest number seen since Restart
  std::bitset<kWindow> seen_;  // by unrolled number modulo kWindow
  int64_t received_ = 0;
  int64_t missing_ = 0;
  int64_t gap_events_ = 0;
  int64_t late_ = 0;
  int64_t duplicates_ = 0;
  int64_t resyncs_ = 0;
};

// RTP time against wall time for one track: the media rate is the RTP
// timestamp span (unrolled past 2^32, the highest seen so B-frames do not
// shorten it) in seconds of the track's clock, over the wall time between
// the first and the last packet. 1.0 is real time; below it the server
// falls behind, above it it bursts.
class MediaClock {
 public:
  void Add(uint32_t rtp_timestamp, int64_t arrival_us);
  // 0 when unknown: no clock rate, fewer than two packets, or less than
  // `min_wall_us` of wall time between them.
  double Rate(int clock_rate, int64_t min_wall_us) const;
  int64_t wall_span_us() const { return packets_ < 2 ? 0 : last_arrival_us_ - first_arrival_us_; }

 private:
  int64_t packets_ = 0;
  uint32_t last_timestamp_ = 0;
  int64_t unrolled_ = 0;  // relative to the first packet's timestamp
  int64_t highest_ = 0;
  int64_t first_arrival_us_ = 0;
  int64_t last_arrival_us_ = 0;
};

// The fixed RTP header's fields this tool reads.
struct RtpHeader {
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
};
// False when `packet` is too short or not RTP version 2.
bool ParseRtpHeader(absl::string_view packet, RtpHeader* header);

}  // namespace rtsptest::tools::bench

#endif  // RTSPTEST_TOOLS_RTSP_BENCH_RTP_STATS_H_
