// A stream's liveness state: starting, live, stalled or failed (and stopping
// while the stream is removed).
//
// Three small parts, all pure (the time is passed in, so tests use a fake
// clock):
//   - StreamLivenessRule decides the state from what MediaLiveness measured;
//   - RateWindow turns counter samples into rates over a sliding window;
//   - StreamHealth holds one stream's state and rates between evaluations
//     and reports each change once.
// StreamManager owns one StreamHealth per stream and is the only writer.
#ifndef RTSPTEST_CORE_STREAM_STREAM_LIVENESS_H_
#define RTSPTEST_CORE_STREAM_STREAM_LIVENESS_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/media/media_liveness.h"

namespace rtsptest::core {

enum class StreamState {
  kStarting,  // Mounted; no frame yet.
  kLive,      // A frame within the stall timeout.
  kStalled,   // No frame for longer than the stall timeout.
  kFailed,    // The pipeline posted an error or reached end of stream. Final.
  kStopping,  // Being removed (StreamManager::Remove); the rule never decides it.
};
// "starting", "live", "stalled", "failed", "stopping".
const char* StreamStateName(StreamState state);

inline constexpr absl::Duration kDefaultStallTimeout = absl::Seconds(2);
inline constexpr absl::Duration kDefaultRateWindow = absl::Seconds(5);

// The tracks a stream's liveness is judged on: its video tracks, and tracks
// whose media is not known yet (no packet so far); only when it has none of
// those (an audio-only stream), all of its tracks. A stream whose video froze
// while its audio goes on is stalled.
std::vector<size_t> LivenessTracks(const LivenessCounters& counters);

class StreamLivenessRule {
 public:
  explicit StreamLivenessRule(absl::Duration stall_timeout = kDefaultStallTimeout)
      : stall_timeout_(stall_timeout) {}

  struct Verdict {
    StreamState state = StreamState::kStarting;
    // Why, for logs and reports: "no frame for 3.2s (track 0)", the
    // failure, ... Empty when live.
    std::string reason;
  };
  // failed when `counters` carry a failure; else starting while a liveness
  // track has no frame yet; else stalled when the oldest last frame of the
  // liveness tracks is more than stall_timeout before `now`; else live.
  // `now` is on MonotonicNow()'s clock.
  Verdict Decide(const LivenessCounters& counters, absl::Duration now) const;

  absl::Duration stall_timeout() const { return stall_timeout_; }

 private:
  absl::Duration stall_timeout_;
};

// Rates over the last `window`, from cumulative counters sampled now and
// then (StreamHealth samples at every evaluation).
class RateWindow {
 public:
  explicit RateWindow(absl::Duration window = kDefaultRateWindow) : window_(window) {}

  // Adds a sample of the cumulative counters at `now` (non-decreasing).
  void Add(absl::Duration now, uint64_t frames, uint64_t bytes);
  // Per second between the oldest sample still in the window and the newest;
  // 0 with fewer than two samples.
  double frames_per_second() const;
  double bits_per_second() const;

 private:
  struct Sample {
    absl::Duration time;
    uint64_t frames;
    uint64_t bytes;
  };
  absl::Duration window_;
  // Oldest first; the oldest may be up to one sample older than the window,
  // so that the window is always covered.
  std::deque<Sample> samples_;
};

struct TrackHealth {
  TrackMedia media = TrackMedia::kUnknown;
  uint64_t frames_produced = 0;
  uint64_t bytes_produced = 0;
  double fps = 0;
  double bits_per_second = 0;
  std::optional<absl::Duration> last_frame_age;  // None before its first frame.
};

// One stream's health as of its last evaluation.
struct StreamHealthReport {
  StreamState state = StreamState::kStarting;
  std::string reason;  // See StreamLivenessRule::Verdict.
  // Over the liveness tracks (LivenessTracks): frames and frame rate summed,
  // age of the oldest last frame (none before each has had one).
  uint64_t frames_produced = 0;
  double fps = 0;
  std::optional<absl::Duration> last_frame_age;
  // RTP bits per second over every track.
  double bits_per_second = 0;
  std::vector<TrackHealth> tracks;
};

class StreamHealth {
 public:
  explicit StreamHealth(absl::Duration stall_timeout = kDefaultStallTimeout,
                        absl::Duration rate_window = kDefaultRateWindow)
      : rule_(stall_timeout), rate_window_(rate_window) {}

  struct Transition {
    StreamState from;
    StreamState to;
    std::string reason;
  };
  // Re-evaluates from fresh counters at `now` (MonotonicNow()'s clock).
  // Returns the change of state, if any: each change is returned once.
  std::optional<Transition> Update(const LivenessCounters& counters, absl::Duration now);

  const StreamHealthReport& report() const { return report_; }
  absl::Duration stall_timeout() const { return rule_.stall_timeout(); }

 private:
  const StreamLivenessRule rule_;
  const absl::Duration rate_window_;
  std::vector<RateWindow> windows_;  // One per track.
  StreamHealthReport report_;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_STREAM_STREAM_LIVENESS_H_
