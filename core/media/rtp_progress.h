// RtpProgress: how far one point of a track's send path has got, as the RTP
// sequence number of the last packet it has seen.
//
// Counting items instead would need both points to start counting at the
// same item; a sequence number names the item itself, so a point installed
// late (or a first item that went before a probe was in place) cannot put
// two points out of step.
#ifndef RTSPTEST_CORE_MEDIA_RTP_PROGRESS_H_
#define RTSPTEST_CORE_MEDIA_RTP_PROGRESS_H_

#include <gst/gst.h>

#include <atomic>
#include <cstdint>

namespace rtsptest::core {

// The sequence number of `packet` (an RTP packet), or of the last packet of
// `packets`; -1 if there is none or it is not RTP.
int32_t LastSequenceOf(GstBuffer* packet);
int32_t LastSequenceOf(GstBufferList* packets);
// The sequence number of `packet`, or of the first packet of `packets`.
int32_t FirstSequenceOf(GstBuffer* packet);
int32_t FirstSequenceOf(GstBufferList* packets);

class RtpProgress {
 public:
  // Records an item the point has seen (its last packet's sequence number).
  void Saw(int32_t sequence) {
    if (sequence >= 0) last_.store(sequence);
  }
  // The last sequence number seen; -1 before the first.
  int32_t last() const { return last_.load(); }
  // True if the point has seen `sequence` or a later packet (serial
  // arithmetic, RFC 1982, over 16 bits), or if `sequence` is -1 (nothing to
  // wait for).
  bool Reached(int32_t sequence) const;

 private:
  std::atomic<int32_t> last_{-1};
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_RTP_PROGRESS_H_
