// MediaLiveness: measures whether a stream's shared media is producing
// frames. It only measures; deciding "live" or "stalled" is the
// stream manager's job (core/stream/stream_liveness.h).
//
// What it watches, per track (pay0..payN, on the media's source pad of the
// payloader):
//   - frames: for video, an RTP packet with the marker bit ends a frame; for
//     audio (and anything that is not video), every RTP packet counts;
//   - RTP bytes, and the monotonic time of the last frame;
//   - an EOS event leaving the payloader (the source ran dry).
// And on the media pipeline's bus: the first ERROR or EOS message.
//
// The streaming threads only do relaxed atomic stores and adds; readers take
// a consistent-enough copy with Read(). The probe and bus-handler data is
// owned through a shared_ptr, because probes live as long as the pads, which
// readers may hold after the keeper (and this object) are gone.
#ifndef RTSPTEST_CORE_MEDIA_MEDIA_LIVENESS_H_
#define RTSPTEST_CORE_MEDIA_MEDIA_LIVENESS_H_

#include <gst/rtsp-server/rtsp-server.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace rtsptest::core {

// The clock of frame times: CLOCK_MONOTONIC as a duration since its epoch,
// so that a wall-clock step never makes a stream look stalled or alive.
absl::Duration MonotonicNow();

enum class TrackMedia { kUnknown, kVideo, kAudio, kOther };
// "unknown", "video", "audio", "other" (from the RTP caps' media field).
const char* TrackMediaName(TrackMedia media);

struct TrackCounters {
  // kUnknown until the track's caps are known (its first packet at latest).
  TrackMedia media = TrackMedia::kUnknown;
  // Video: completed frames (marker bit). Other media: RTP packets.
  uint64_t frames = 0;
  uint64_t bytes = 0;
  // MonotonicNow() when the last frame left the payloader; none yet when
  // frames == 0.
  std::optional<absl::Duration> last_frame;
};

struct LivenessCounters {
  std::vector<TrackCounters> tracks;  // In track order (pay0, pay1, ...).
  // Empty while the media is sound; otherwise what ended it, the first
  // time: "pipeline error from <element>: <message>" or
  // "end of stream (track <n>)" / "end of stream". Never cleared: GStreamer
  // expects a pipeline that posted an error to be torn down.
  std::string failure;
};

class MediaLiveness {
 public:
  // Starts measuring `media`, which must be constructed (its streams and
  // pipeline exist). Call before it plays to see its first frame.
  explicit MediaLiveness(GstRTSPMedia* media);
  // Stops listening to the bus. Pad probes stay (see the file comment) but
  // only touch the shared counters.
  ~MediaLiveness();

  MediaLiveness(const MediaLiveness&) = delete;
  MediaLiveness& operator=(const MediaLiveness&) = delete;

  LivenessCounters Read() const;

  struct Shared;  // Counters shared with the probes; defined in the .cc.

 private:
  std::shared_ptr<Shared> shared_;
  GstBus* bus_ = nullptr;  // owned reference
  gulong bus_handler_ = 0;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_MEDIA_LIVENESS_H_
