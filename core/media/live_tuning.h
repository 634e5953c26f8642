// Settings that make a prepared shared media behave like a live camera for
// readers who join it while it runs. Both need the prepared pipeline (rtpbin
// exists only after prepare), so they are not track taps.
#ifndef RTSPTEST_CORE_MEDIA_LIVE_TUNING_H_
#define RTSPTEST_CORE_MEDIA_LIVE_TUNING_H_

#include <gst/rtsp-server/rtsp-server.h>

namespace rtsptest::core {

// The media's pipeline (the parent of its element), with a reference; null
// before the media is constructed.
GstElement* PipelineOf(GstRTSPMedia* media);

// RTCP sender reports every second at least (rtpbin's default is 5 s).
void ShortenRtcpInterval(GstRTSPMedia* media);

// RTP sinks added to the pipeline from now on send each packet as soon as it
// is encoded, unsynchronised to the clock.
void SendAsSoonAsEncoded(GstRTSPMedia* media);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_LIVE_TUNING_H_
