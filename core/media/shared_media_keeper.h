// SharedMediaKeeper: the server's own hold on a stream's one shared media,
// for the stream's whole life: it prepares the media, anchors it, and
// releases it. Nothing else.
//
// The anchor is one TCP-interleaved transport per track whose send callbacks
// discard the data. With it the pipeline is complete and PLAYING from the
// start, so it never changes state again while readers come and go, and every
// track has a segment before the stream is mounted (see stream_media.h for
// the hazard this removes).
#ifndef RTSPTEST_CORE_MEDIA_SHARED_MEDIA_KEEPER_H_
#define RTSPTEST_CORE_MEDIA_SHARED_MEDIA_KEEPER_H_

#include <gst/rtsp-server/rtsp-server.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/glib/gst_ptr.h"
#include "core/media/rtp_progress.h"

namespace rtsptest::core {

class SharedMediaKeeper {
 public:
  // Constructs the media through `factory` (so that it lands in the
  // factory's shared cache and gets its taps) and prepares it on a media
  // thread owned by the keeper. InvalidArgument if the element could not be
  // built, Unavailable if the pipeline did not prepare.
  static absl::StatusOr<std::unique_ptr<SharedMediaKeeper>> Prepare(GstRTSPMediaFactory* factory,
                                                                    const std::string& path);
  // Detaches the anchor and drops the keeper's prepare count: the pipeline
  // stops once the last reader's count is gone too.
  ~SharedMediaKeeper();

  SharedMediaKeeper(const SharedMediaKeeper&) = delete;
  SharedMediaKeeper& operator=(const SharedMediaKeeper&) = delete;

  // For a track, where the anchor records each RTP item it is handed (a
  // key-frame gate's), or null.
  using AnchorProgressOf = std::function<std::shared_ptr<RtpProgress>(GstRTSPStream*)>;
  // Completes the pipeline with the anchor transports, plays it, and returns
  // once every track has carried data (bounded). Call once, after Prepare().
  absl::Status Anchor(const AnchorProgressOf& progress_of);

  GstRTSPMedia* media() const { return media_.get(); }
  // Readers set up on the stream now: the transports on its first track,
  // less the anchor's.
  int readers() const;

 private:
  SharedMediaKeeper(GObjectPtr<GstRTSPMedia> media, std::string path)
      : media_(std::move(media)), path_(std::move(path)) {}

  GObjectPtr<GstRTSPMedia> media_;
  const std::string path_;
  GPtrArray* anchors_ = nullptr;  // owned; GstRTSPStreamTransport*, one per track
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_SHARED_MEDIA_KEEPER_H_
