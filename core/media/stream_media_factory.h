// StreamMediaFactory: the gst-rtsp-server media factory of one stream, and the
// policy that keeps that stream's single shared pipeline alive.
//
// The known hazard (docs/architecture.md, "Churn"): stock gst-rtsp-server
// 1.22 aborts the process in gst_rtsp_media_get_rates() ("complete stream
// without rate") whenever a reader's PLAY meets a media whose tracks carry no
// segment yet: a shared media being prepared for, or torn down by, other
// readers, or one whose first PLAY is still starting it. Our design removes
// every such moment instead of narrowing it:
//   1. the stream's one pipeline is built, prepared and started when the
//      stream is mounted, before any reader can see the mount, and the
//      server holds it (SharedMediaKeeper) until the stream is removed;
//   2. the keeper attaches an "anchor": one TCP-interleaved transport per
//      track whose send callbacks discard the data. With it the pipeline is
//      complete and PLAYING from the start, so it never changes state again
//      while readers come and go, and every track has a segment before the
//      mount appears. Readers join a running stream like a real camera's;
//   3. the stream answers SEEKING with "no", so a PLAY's Range never turns
//      into a flushing seek that would wipe the segments under other readers;
//   4. the cache key ignores host and port, so every listener (port) gets the
//      same media: one pipeline and one encoder per stream, whatever the
//      number of readers or ports.
// The cost is that a stream encodes while nobody watches, like a camera.
#ifndef RTSPTEST_SERVER_MEDIA_STREAM_MEDIA_FACTORY_H_
#define RTSPTEST_SERVER_MEDIA_STREAM_MEDIA_FACTORY_H_

#include <gst/rtsp-server/rtsp-server.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/glib/gst_ptr.h"
#include "core/media/key_frame_gate.h"
#include "core/media/media_liveness.h"

namespace rtsptest::server {

// Builds a new element (a bin with pay0..payN) for the stream.
using ElementBuilder = std::function<absl::StatusOr<GstPtr<GstElement>>()>;

// Creates the factory for `path` (shared, TCP and UDP). The returned factory
// is a GstRTSPMediaFactory subclass; the caller owns the reference.
GObjectPtr<GstRTSPMediaFactory> NewStreamMediaFactory(std::string path, ElementBuilder builder);

// The server's own hold on a stream's shared media (see the file comment).
class SharedMediaKeeper {
 public:
  // Constructs the media through `factory` (so that it lands in the factory's
  // shared cache), prepares it on a media thread owned by the keeper, and
  // starts it with the anchor. Returns once every track has carried data.
  static absl::StatusOr<std::unique_ptr<SharedMediaKeeper>> Create(
      GstRTSPMediaFactory* factory, const std::string& path);
  // Drops the server's prepare count: the pipeline stops once the last
  // client is gone too.
  ~SharedMediaKeeper();

  SharedMediaKeeper(const SharedMediaKeeper&) = delete;
  SharedMediaKeeper& operator=(const SharedMediaKeeper&) = delete;

  GstRTSPMedia* media() const { return media_.get(); }
  // Readers set up on the stream now: transports on its first track.
  int readers() const;
  // A reader's PLAY is about to activate its transports, and then has (its
  // client thread, gst-rtsp-server's "pre-play-request" and "play-request"):
  // its video starts at the next key frame, requested now (KeyFrameGate).
  void OnReaderActivating();
  void OnReaderPlaying(GstRTSPContext* context);
  // RTP bytes the payloaders have produced since the media was prepared.
  uint64_t bytes_produced() const { return bytes_->load(std::memory_order_relaxed); }
  // Frames, last-frame times and failures of the stream's tracks.
  const MediaLiveness& liveness() const { return *liveness_; }

 private:
  SharedMediaKeeper(GObjectPtr<GstRTSPMedia> media, std::shared_ptr<std::atomic<uint64_t>> bytes)
      : media_(std::move(media)), bytes_(std::move(bytes)) {}
  // Completes the pipeline with the anchor transports, plays it, and waits
  // until every track has carried data.
  absl::Status StartAnchor(const std::string& path);
  // One gate per track whose payload format has entry points (video).
  void InstallKeyFrameGates();
  KeyFrameGate* GateOf(GstRTSPStream* stream) const;

  GObjectPtr<GstRTSPMedia> media_;
  std::vector<std::unique_ptr<KeyFrameGate>> gates_;
  GPtrArray* anchors_ = nullptr;  // owned; GstRTSPStreamTransport*, one per track
  // Shared with the pad probes, which may outlive the keeper by as long as
  // readers hold the media.
  std::shared_ptr<std::atomic<uint64_t>> bytes_;
  std::unique_ptr<MediaLiveness> liveness_;  // Set by Create() before the anchor starts.
};

}  // namespace rtsptest::server

#endif  // RTSPTEST_SERVER_MEDIA_STREAM_MEDIA_FACTORY_H_
