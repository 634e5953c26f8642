// Faults that act at the stream's video encoder: a frozen or black picture
// (on the raw frames going into it) and a bitrate spike (its property).
#ifndef RTSPTEST_CORE_MEDIA_ENCODER_FAULTS_H_
#define RTSPTEST_CORE_MEDIA_ENCODER_FAULTS_H_

#include <gst/gst.h>
#include <gst/video/video.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/media/active_fault.h"

namespace rtsptest::core {

// Paints `frame` (mapped for writing) black: Y=16, U=V=128 for YUV formats
// (planar, semi-planar and packed 4:2:2), 0 with opaque alpha for the RGB
// family, 0 for GRAY8/GRAY16. FailedPrecondition naming the format for any
// other.
absl::Status PaintBlack(GstVideoFrame* frame);
// OK if PaintBlack() can paint `format`, else that FailedPrecondition.
absl::Status CheckBlackPaintable(GstVideoFormat format);

enum class PictureMode { kFreeze, kBlack };

// Replaces every raw frame going into `encoder` (its "sink" pad) with a copy
// of a fixed picture, keeping each frame's timestamps and flags: the first
// frame the fault sees (freeze), or a black frame of the negotiated format
// (black). The fixed picture is built once; each frame costs a shallow
// buffer copy. A caps change takes a new picture. FailedPrecondition if the
// encoder has no negotiated raw caps, or (black) their format cannot be
// painted.
absl::StatusOr<std::unique_ptr<ActiveFault>> StartPictureFault(GstElement* encoder,
                                                               PictureMode mode);

// Multiplies `encoder`'s "bitrate" property (kbit/s for x264enc, x265enc)
// by `factor`, clamped to the property's maximum; restores the old value
// when stopped. FailedPrecondition "encoder <factory> has no bitrate
// property" if it has no integer property of that name, and also if it
// cannot change it while playing, or if it is x264 with NAL HRD signalled
// (nal-hrd in its option-string: x264 then ignores rate changes).
absl::StatusOr<std::unique_ptr<ActiveFault>> StartBitrateSpike(GstElement* encoder, double factor);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_ENCODER_FAULTS_H_
