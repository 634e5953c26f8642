// core::Stream -> v1::StreamReport (see header).
#include "control/services/stream_report.h"

#include <string>

#include "common/time/proto_time.h"

namespace rtsptest::control {

v1::StreamState ToProtoState(core::StreamState state) {
  switch (state) {
    case core::StreamState::kStarting:
      return v1::STREAM_STATE_STARTING;
    case core::StreamState::kLive:
      return v1::STREAM_STATE_LIVE;
    case core::StreamState::kStalled:
      return v1::STREAM_STATE_STALLED;
    case core::StreamState::kFailed:
      return v1::STREAM_STATE_FAILED;
    case core::StreamState::kStopping:
      return v1::STREAM_STATE_STOPPING;
  }
  return v1::STREAM_STATE_UNSPECIFIED;
}

void FillStreamReport(const core::Stream& stream, v1::StreamReport* out) {
  out->set_path(stream.spec.path());
  out->set_plugin(stream.spec.plugin());
  out->set_description(stream.spec.description());
  for (const std::string& name : stream.status.listeners) out->add_listeners(name);
  out->set_readers(static_cast<uint32_t>(stream.status.readers));
  out->set_bytes_produced(stream.status.bytes_produced);
  for (const auto& [key, value] : stream.status.parameters) {
    (*out->mutable_parameters())[key] = value;
  }
  const core::StreamHealthReport& health = stream.status.health;
  // A stream being removed reports "stopping", whatever its last liveness.
  out->set_state(
      ToProtoState(stream.state == core::StreamState::kStopping ? stream.state : health.state));
  out->set_state_reason(health.reason);
  if (health.last_frame_age.has_value()) {
    *out->mutable_last_frame_age() = common::ToProtoDuration(*health.last_frame_age);
  }
  out->set_fps(health.fps);
  out->set_bits_per_second(health.bits_per_second);
  out->set_frames_produced(health.frames_produced);
  for (const core::TrackHealth& track : health.tracks) {
    v1::TrackReport* t = out->add_tracks();
    t->set_media(core::TrackMediaName(track.media));
    t->set_frames_produced(track.frames_produced);
    t->set_fps(track.fps);
    t->set_bits_per_second(track.bits_per_second);
    if (track.last_frame_age.has_value()) {
      *t->mutable_last_frame_age() = common::ToProtoDuration(*track.last_frame_age);
    }
  }
}

}  // namespace rtsptest::control
