// RtpProgress: the last RTP sequence number a point has seen.
#include "core/media/rtp_progress.h"

#include <gst/rtp/gstrtpbuffer.h>

namespace rtsptest::core {

int32_t LastSequenceOf(GstBuffer* packet) {
  if (packet == nullptr) return -1;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(packet, GST_MAP_READ, &rtp)) return -1;
  int32_t sequence = gst_rtp_buffer_get_seq(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  return sequence;
}

int32_t LastSequenceOf(GstBufferList* packets) {
  guint n = packets != nullptr ? gst_buffer_list_length(packets) : 0;
  return n > 0 ? LastSequenceOf(gst_buffer_list_get(packets, n - 1)) : -1;
}

int32_t FirstSequenceOf(GstBuffer* packet) { return LastSequenceOf(packet); }

int32_t FirstSequenceOf(GstBufferList* packets) {
  guint n = packets != nullptr ? gst_buffer_list_length(packets) : 0;
  return n > 0 ? LastSequenceOf(gst_buffer_list_get(packets, 0)) : -1;
}

bool RtpProgress::Reached(int32_t sequence) const {
  if (sequence < 0) return true;
  int32_t last = last_.load();
  if (last < 0) return false;
  return static_cast<int16_t>(static_cast<uint16_t>(last - sequence)) >= 0;
}

}  // namespace rtsptest::core
