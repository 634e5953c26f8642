// StreamLivenessRule, RateWindow and StreamHealth (see header).
#include "core/stream/stream_liveness.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace rtsptest::core {
namespace {

std::string FormatAge(absl::Duration age) {
  return absl::FormatDuration(absl::Trunc(age, absl::Milliseconds(100)));
}

}  // namespace

const char* StreamStateName(StreamState state) {
  switch (state) {
    case StreamState::kStarting:
      return "starting";
    case StreamState::kLive:
      return "live";
    case StreamState::kStalled:
      return "stalled";
    case StreamState::kFailed:
      return "failed";
    case StreamState::kStopping:
      return "stopping";
  }
  return "unknown";
}

std::vector<size_t> LivenessTracks(const LivenessCounters& counters) {
  std::vector<size_t> picked;
  for (size_t i = 0; i < counters.tracks.size(); ++i) {
    TrackMedia media = counters.tracks[i].media;
    if (media == TrackMedia::kVideo || media == TrackMedia::kUnknown) picked.push_back(i);
  }
  if (!picked.empty()) return picked;
  for (size_t i = 0; i < counters.tracks.size(); ++i) picked.push_back(i);
  return picked;
}

StreamLivenessRule::Verdict StreamLivenessRule::Decide(const LivenessCounters& counters,
                                                       absl::Duration now) const {
  if (!counters.failure.empty()) return {StreamState::kFailed, counters.failure};
  std::optional<size_t> oldest;
  for (size_t i : LivenessTracks(counters)) {
    const TrackCounters& track = counters.tracks[i];
    if (!track.last_frame.has_value()) {
      return {StreamState::kStarting, absl::StrCat("waiting for the first frame (track ", i, ")")};
    }
    if (!oldest.has_value() || *track.last_frame < *counters.tracks[*oldest].last_frame) oldest = i;
  }
  if (!oldest.has_value()) return {StreamState::kStarting, "no tracks"};
  const absl::Duration age = now - *counters.tracks[*oldest].last_frame;
  if (age > stall_timeout_) {
    return {StreamState::kStalled,
            absl::StrCat("no frame for ", FormatAge(age), " (track ", *oldest, "; stall_timeout ",
                         FormatAge(stall_timeout_), ")")};
  }
  return {StreamState::kLive, ""};
}

void RateWindow::Add(absl::Duration now, uint64_t frames, uint64_t bytes) {
  samples_.push_back({now, frames, bytes});
  // Keep one sample at or before the window's start as the baseline.
  while (samples_.size() > 2 && samples_[1].time <= now - window_) samples_.pop_front();
}

double RateWindow::frames_per_second() const {
  if (samples_.size() < 2) return 0;
  const Sample& first = samples_.front();
  const Sample& last = samples_.back();
  double seconds = absl::ToDoubleSeconds(last.time - first.time);
  return seconds > 0 ? static_cast<double>(last.frames - first.frames) / seconds : 0;
}

double RateWindow::bits_per_second() const {
  if (samples_.size() < 2) return 0;
  const Sample& first = samples_.front();
  const Sample& last = samples_.back();
  double seconds = absl::ToDoubleSeconds(last.time - first.time);
  return seconds > 0 ? 8.0 * static_cast<double>(last.bytes - first.bytes) / seconds : 0;
}

std::optional<StreamHealth::Transition> StreamHealth::Update(const LivenessCounters& counters,
                                                             absl::Duration now) {
  windows_.resize(counters.tracks.size(), RateWindow(rate_window_));
  StreamHealthReport next;
  next.tracks.resize(counters.tracks.size());
  for (size_t i = 0; i < counters.tracks.size(); ++i) {
    const TrackCounters& in = counters.tracks[i];
    windows_[i].Add(now, in.frames, in.bytes);
    TrackHealth& out = next.tracks[i];
    out.media = in.media;
    out.frames_produced = in.frames;
    out.bytes_produced = in.bytes;
    out.fps = windows_[i].frames_per_second();
    out.bits_per_second = windows_[i].bits_per_second();
    if (in.last_frame.has_value())
      out.last_frame_age = std::max(absl::ZeroDuration(), now - *in.last_frame);
    next.bits_per_second += out.bits_per_second;
  }
  bool every_track_has_a_frame = true;
  for (size_t i : LivenessTracks(counters)) {
    const TrackHealth& track = next.tracks[i];
    next.frames_produced += track.frames_produced;
    next.fps += track.fps;
    if (!track.last_frame_age.has_value()) {
      every_track_has_a_frame = false;
    } else if (!next.last_frame_age.has_value() || *track.last_frame_age > *next.last_frame_age) {
      next.last_frame_age = track.last_frame_age;
    }
  }
  if (!every_track_has_a_frame) next.last_frame_age.reset();
  StreamLivenessRule::Verdict verdict = rule_.Decide(counters, now);
  next.state = verdict.state;
  next.reason = std::move(verdict.reason);
  const StreamState before = report_.state;
  report_ = std::move(next);
  if (report_.state == before) return std::nullopt;
  return Transition{before, report_.state, report_.reason};
}

}  // namespace rtsptest::core
