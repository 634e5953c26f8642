// StreamMediaFactory: the gst-rtsp-server media factory of one stream, and the
// policy that keeps that stream's single shared pipeline alive.
//
// The known hazard (docs/architecture.md, "Churn"): with stock
// gst-rtsp-server 1.22, a shared media is prepared by the first client and
// unprepared when the last one leaves. Under churn, a client's PLAY can run
// against a media that another client's disconnect is tearing down at that
// very moment; gst_rtsp_media_get_rates() then finds no streams and aborts the
// process (g_assert). Our design removes the race instead of narrowing it:
//   1. the factory builds the pipeline once, when the stream is mounted, and
//      the server itself holds one prepare count on it (SharedMediaKeeper);
//      client churn can then only move the prepare count between N+1 and 1,
//      never to 0, so no client ever sees a media being prepared or torn down;
//   2. the cache key ignores host and port, so every listener (port) gets the
//      same media: one pipeline and one encoder per stream, whatever the
//      number of readers or ports;
//   3. a prepared but unwatched live pipeline sits in PAUSED, so an idle
//      stream costs no encoding; the first PLAY moves it to PLAYING.
// The pipeline is released only when the stream is removed or at shutdown.
#ifndef RTSPTEST_SERVER_MEDIA_STREAM_MEDIA_FACTORY_H_
#define RTSPTEST_SERVER_MEDIA_STREAM_MEDIA_FACTORY_H_

#include <gst/rtsp-server/rtsp-server.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/glib/gst_ptr.h"

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
  // shared cache) and prepares it on a media thread owned by the keeper.
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
  // RTP bytes the payloaders have produced since the media was prepared.
  uint64_t bytes_produced() const { return bytes_->load(std::memory_order_relaxed); }

 private:
  SharedMediaKeeper(GObjectPtr<GstRTSPMedia> media, std::shared_ptr<std::atomic<uint64_t>> bytes)
      : media_(std::move(media)), bytes_(std::move(bytes)) {}
  GObjectPtr<GstRTSPMedia> media_;
  // Shared with the pad probes, which may outlive the keeper by as long as
  // readers hold the media.
  std::shared_ptr<std::atomic<uint64_t>> bytes_;
};

}  // namespace rtsptest::server

#endif  // RTSPTEST_SERVER_MEDIA_STREAM_MEDIA_FACTORY_H_
