// RtspReader: an in-process GStreamer RTSP client that decodes what it reads,
// for end-to-end tests that must prove frames decode (not just that packets
// flow).
//
//   rtspsrc location=<url> protocols=tcp|udp latency=100
//     --(one pad per RTSP stream)--> decodebin
//       --video--> videoconvert ! video/x-raw,format=I420 ! appsink
//       --audio--> audioconvert ! audio/x-raw,format=S16LE ! appsink
//
// Audio is converted to one sample format but never resampled, so the rate a
// test sees is the rate the decoder produced. Every wait is bounded; errors
// posted on the pipeline bus end the wait early and are reported.
#ifndef RTSPTEST_TESTS_UTIL_RTSP_READER_H_
#define RTSPTEST_TESTS_UTIL_RTSP_READER_H_

#include <gst/gst.h>

#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace rtsptest::testing {

// What a reader has decoded so far.
struct DecodedMedia {
  int video_frames = 0;
  int width = 0;  // of the last decoded video frame
  int height = 0;
  int audio_buffers = 0;
  int audio_rate = 0;  // sample rate of the last decoded audio buffer
  int audio_channels = 0;
  std::string error;  // first error posted on the bus, "" if none
};

enum class RtspProtocol { kTcp, kUdp };

class RtspReader {
 public:
  RtspReader(std::string url, RtspProtocol protocol, int latency_ms = 100);
  ~RtspReader();  // Stops the pipeline (TEARDOWN) and waits for its threads.

  RtspReader(const RtspReader&) = delete;
  RtspReader& operator=(const RtspReader&) = delete;

  // Builds the pipeline and sets it PLAYING. InvalidArgument if it cannot
  // be built, Unavailable if the state change fails at once.
  absl::Status Start();

  // Waits until at least `video_frames` video frames and `audio_buffers`
  // audio buffers have been decoded. DeadlineExceeded on timeout, Unavailable
  // when the pipeline posted an error first (the message names it).
  absl::Status WaitForMedia(int video_frames, int audio_buffers, absl::Duration timeout);

  DecodedMedia media() const;
  const std::string& url() const { return url_; }

 private:
  static void OnSourcePadAdded(GstElement* source, GstPad* pad, RtspReader* self);
  static void OnDecodedPadAdded(GstElement* decodebin, GstPad* pad, RtspReader* self);
  static GstFlowReturn OnVideoSample(GstElement* sink, RtspReader* self);
  static GstFlowReturn OnAudioSample(GstElement* sink, RtspReader* self);
  static GstBusSyncReply OnBusMessage(GstBus* bus, GstMessage* message, RtspReader* self);
  void RecordError(const std::string& error);

  const std::string url_;
  const RtspProtocol protocol_;
  const int latency_ms_;
  GstElement* pipeline_ = nullptr;  // owned

  mutable absl::Mutex mutex_;
  DecodedMedia media_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace rtsptest::testing

#endif  // RTSPTEST_TESTS_UTIL_RTSP_READER_H_
