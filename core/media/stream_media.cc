// StreamMedia: the order in which a stream's media is put together.
#include "core/media/stream_media.h"

#include <utility>
#include <vector>

#include "core/media/live_tuning.h"
#include "core/media/no_seek_tap.h"

namespace rtsptest::core {

absl::StatusOr<std::unique_ptr<StreamMedia>> StreamMedia::Create(const std::string& path,
                                                                 ElementBuilder builder) {
  std::unique_ptr<StreamMedia> stream(new StreamMedia());
  stream->counting_ = std::make_shared<CountingTap>();
  std::vector<std::shared_ptr<TrackTap>> taps = {stream->counting_, std::make_shared<NoSeekTap>()};
  stream->factory_ = NewStreamMediaFactory(path, std::move(builder), std::move(taps));
  absl::StatusOr<std::unique_ptr<SharedMediaKeeper>> keeper =
      SharedMediaKeeper::Prepare(stream->factory_.get(), path);
  if (!keeper.ok()) return keeper.status();
  stream->keeper_ = *std::move(keeper);
  GstRTSPMedia* media = stream->keeper_->media();
  ShortenRtcpInterval(media);
  SendAsSoonAsEncoded(media);
  // Before the anchor: its transports count what they are handed for the
  // gates.
  stream->admission_ = std::make_unique<ReaderAdmission>(media);
  ReaderAdmission* admission = stream->admission_.get();
  absl::Status anchored =
      stream->keeper_->Anchor([admission](GstRTSPStream* track) -> std::shared_ptr<RtpProgress> {
        KeyFrameGate* gate = admission->GateOf(track);
        return gate != nullptr ? gate->anchor_progress() : nullptr;
      });
  if (!anchored.ok()) return anchored;
  // Faults attach to the running media, and only while one is active.
  stream->faults_ = std::make_unique<StreamFaults>(media);
  return stream;
}

StreamMedia::~StreamMedia() {
  // The faults stop first (their probes go, a held stream moves on), then
  // the gates go before the media they watch.
  faults_.reset();
  admission_.reset();
  keeper_.reset();
}

}  // namespace rtsptest::core
