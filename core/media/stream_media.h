// StreamMedia: everything a stream serves from, assembled: its factory (with
// the track taps), the keeper of its one shared media, live tuning and the
// admission of joining readers.
//
// The known hazard (docs/architecture.md, "Churn"): stock gst-rtsp-server
// 1.22 aborts the process in gst_rtsp_media_get_rates() ("complete stream
// without rate") whenever a reader's PLAY meets a media whose tracks carry no
// segment yet: a shared media being prepared for, or torn down by, other
// readers, or one whose first PLAY is still starting it. Our design removes
// every such moment instead of narrowing it:
//   1. the stream's one pipeline is built, prepared and started when the
//      stream is created, before any reader can see the mount, and the
//      server holds it (SharedMediaKeeper) until the stream is removed;
//   2. the keeper anchors it (shared_media_keeper.h): complete and PLAYING
//      from the start, every track with a segment before the mount appears.
//      Readers join a running stream like a real camera's;
//   3. every track answers SEEKING with "no" (NoSeekTap), so a PLAY's Range
//      never turns into a flushing seek that would wipe the segments under
//      other readers;
//   4. the cache key ignores host and port (StreamMediaFactory), so every
//      listener (port) gets the same media: one pipeline and one encoder per
//      stream, whatever the number of readers or ports.
// The cost is that a stream encodes while nobody watches, like a camera.
#ifndef RTSPTEST_CORE_MEDIA_STREAM_MEDIA_H_
#define RTSPTEST_CORE_MEDIA_STREAM_MEDIA_H_

#include <gst/rtsp-server/rtsp-server.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/glib/gst_ptr.h"
#include "core/media/counting_tap.h"
#include "core/media/media_liveness.h"
#include "core/media/reader_admission.h"
#include "core/media/shared_media_keeper.h"
#include "core/media/stream_faults.h"
#include "core/media/stream_media_factory.h"

namespace rtsptest::core {

class StreamMedia {
 public:
  // Builds the factory for `path`, and through it the stream's media; returns
  // once the media is prepared, anchored and every track has carried data.
  // The keeper's codes (InvalidArgument, Unavailable, Internal).
  static absl::StatusOr<std::unique_ptr<StreamMedia>> Create(const std::string& path,
                                                             ElementBuilder builder);
  // Releases the media (readers still on it keep it until they go).
  ~StreamMedia();

  StreamMedia(const StreamMedia&) = delete;
  StreamMedia& operator=(const StreamMedia&) = delete;

  // What listeners mount.
  GstRTSPMediaFactory* factory() const { return factory_.get(); }
  GstRTSPMedia* media() const { return keeper_->media(); }

  int readers() const { return keeper_->readers(); }
  uint64_t bytes_produced() const { return counting_->bytes_produced(); }
  // Frames, last-frame times and failures of the stream's tracks.
  LivenessCounters ReadLiveness() const { return counting_->Read(); }

  // See ReaderAdmission.
  void OnReaderActivating() { admission_->OnReaderActivating(); }
  void OnReaderPlaying(GstRTSPContext* context) { admission_->OnReaderPlaying(context); }
  void OnReaderAbandoned() { admission_->OnReaderAbandoned(); }

  // Faults on the running media (stream_faults.h); all stop with the stream.
  StreamFaults& faults() const { return *faults_; }

 private:
  StreamMedia() = default;

  // Destroyed in reverse: the faults, the gates, then the keeper (the
  // media), then the factory and the taps.
  std::shared_ptr<CountingTap> counting_;
  GObjectPtr<GstRTSPMediaFactory> factory_;
  std::unique_ptr<SharedMediaKeeper> keeper_;
  std::unique_ptr<ReaderAdmission> admission_;
  std::unique_ptr<StreamFaults> faults_;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_STREAM_MEDIA_H_
