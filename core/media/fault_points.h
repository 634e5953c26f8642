// FaultPoints: where stream faults attach in a stream's media: the bin's
// video encoder (if any) and each track's payloader pads.
//
// A plugin's bin has payloaders pay0..payN; gst-rtsp-server makes a ghost
// pad on the media bin for each (the track pad, where CountingTap and
// KeyFrameGate probe). The payloader's own pads are upstream of it, so a
// fault acting there is invisible to those taps: they see what is sent.
#ifndef RTSPTEST_CORE_MEDIA_FAULT_POINTS_H_
#define RTSPTEST_CORE_MEDIA_FAULT_POINTS_H_

#include <gst/rtsp-server/rtsp-server.h>

#include <vector>

#include "core/glib/gst_ptr.h"

namespace rtsptest::core {

struct FaultPoints {
  struct Track {
    GstPtr<GstPad> sink;  // the payloader's sink pad: encoded frames
    GstPtr<GstPad> src;   // the payloader's own src pad: RTP packets
  };
  // The first element whose factory klass has "Encoder/Video" (or
  // "Encoder/Image": jpegenc encodes MJPEG video), searching
  // the media bin and every bin inside it; null for an encoded pass-through.
  GstPtr<GstElement> video_encoder;
  // One per track that has a payloader with both pads.
  std::vector<Track> tracks;
};

// Finds them in `media` (constructed; borrowed for the call).
FaultPoints FindFaultPoints(GstRTSPMedia* media);

// True if `element`'s factory klass has "Encoder/Video" or "Encoder/Image".
bool IsVideoEncoder(GstElement* element);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_FAULT_POINTS_H_
