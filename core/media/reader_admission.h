// ReaderAdmission: what happens when a reader joins a running stream: its
// video starts at a key frame, requested at its PLAY (one KeyFrameGate per
// video track, key_frame_gate.h, which also rate-limits the requests).
#ifndef RTSPTEST_CORE_MEDIA_READER_ADMISSION_H_
#define RTSPTEST_CORE_MEDIA_READER_ADMISSION_H_

#include <gst/rtsp-server/rtsp-server.h>

#include <memory>
#include <vector>

#include "core/media/key_frame_gate.h"

namespace rtsptest::core {

class ReaderAdmission {
 public:
  // One gate per track of the prepared `media` whose payload format has
  // entry points (video). The media must outlive this object.
  explicit ReaderAdmission(GstRTSPMedia* media);

  ReaderAdmission(const ReaderAdmission&) = delete;
  ReaderAdmission& operator=(const ReaderAdmission&) = delete;

  // A reader's PLAY is about to activate its transports, and then has (its
  // client thread, gst-rtsp-server's "pre-play-request" and "play-request"),
  // or was answered with an error instead and activated nothing.
  void OnReaderActivating();
  void OnReaderPlaying(GstRTSPContext* context);
  void OnReaderAbandoned();

  // The gate of `stream`, null for a track without one.
  KeyFrameGate* GateOf(GstRTSPStream* stream) const;

 private:
  std::vector<std::unique_ptr<KeyFrameGate>> gates_;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_READER_ADMISSION_H_
