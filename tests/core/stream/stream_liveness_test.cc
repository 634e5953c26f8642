// Tests of the stream liveness decision (StreamLivenessRule), the sliding
// rate window (RateWindow) and one stream's state over time (StreamHealth),
// with a fake clock: times are plain durations on MonotonicNow()'s scale.
#include "core/stream/stream_liveness.h"

#include <optional>

#include "gtest/gtest.h"

namespace rtsptest::core {
namespace {

const absl::Duration kT0 = absl::Hours(100);  // Any point on the monotonic clock.
const absl::Duration kStall = absl::Seconds(2);

TrackCounters Video(uint64_t frames, std::optional<absl::Duration> last_frame, uint64_t bytes = 0) {
  TrackCounters track;
  track.media = TrackMedia::kVideo;
  track.frames = frames;
  track.bytes = bytes;
  track.last_frame = last_frame;
  return track;
}

TrackCounters Audio(uint64_t packets, std::optional<absl::Duration> last_packet) {
  TrackCounters track = Video(packets, last_packet);
  track.media = TrackMedia::kAudio;
  return track;
}

LivenessCounters Counters(std::vector<TrackCounters> tracks, std::string failure = "") {
  LivenessCounters counters;
  counters.tracks = std::move(tracks);
  counters.failure = std::move(failure);
  return counters;
}

TEST(StreamLivenessRuleTest, StartingUntilTheFirstFrame) {
  StreamLivenessRule rule(kStall);
  StreamLivenessRule::Verdict verdict =
      rule.Decide(Counters({Video(0, std::nullopt)}), kT0 + absl::Hours(1));
  EXPECT_EQ(verdict.state, StreamState::kStarting);
  EXPECT_EQ(verdict.reason, "waiting for the first frame (track 0)");
}

TEST(StreamLivenessRuleTest, LiveWhileTheLastFrameIsWithinTheStallTimeout) {
  StreamLivenessRule rule(kStall);
  StreamLivenessRule::Verdict verdict = rule.Decide(Counters({Video(1, kT0)}), kT0 + kStall);
  EXPECT_EQ(verdict.state, StreamState::kLive);
  EXPECT_EQ(verdict.reason, "");
}

TEST(StreamLivenessRuleTest, StalledJustAfterTheStallTimeout) {
  StreamLivenessRule rule(kStall);
  StreamLivenessRule::Verdict verdict =
      rule.Decide(Counters({Video(1, kT0)}), kT0 + kStall + absl::Milliseconds(250));
  EXPECT_EQ(verdict.state, StreamState::kStalled);
  EXPECT_EQ(verdict.reason, "no frame for 2.2s (track 0; stall_timeout 2s)");
}

TEST(StreamLivenessRuleTest, FailureWinsOverFreshFrames) {
  StreamLivenessRule rule(kStall);
  StreamLivenessRule::Verdict verdict =
      rule.Decide(Counters({Video(10, kT0)}, "pipeline error from src: boom"), kT0);
  EXPECT_EQ(verdict.state, StreamState::kFailed);
  EXPECT_EQ(verdict.reason, "pipeline error from src: boom");
}

TEST(StreamLivenessRuleTest, FrozenVideoIsStalledEvenWhileAudioFlows) {
  StreamLivenessRule rule(kStall);
  const absl::Duration now = kT0 + absl::Seconds(10);
  StreamLivenessRule::Verdict verdict =
      rule.Decide(Counters({Video(5, kT0), Audio(500, now)}), now);
  EXPECT_EQ(verdict.state, StreamState::kStalled);
  EXPECT_EQ(verdict.reason, "no frame for 10s (track 0; stall_timeout 2s)");
}

TEST(StreamLivenessRuleTest, AudioOnlyStreamIsJudgedOnItsPackets) {
  StreamLivenessRule rule(kStall);
  EXPECT_EQ(rule.Decide(Counters({Audio(50, kT0)}), kT0 + absl::Seconds(1)).state,
            StreamState::kLive);
  EXPECT_EQ(rule.Decide(Counters({Audio(50, kT0)}), kT0 + absl::Seconds(3)).state,
            StreamState::kStalled);
}

TEST(StreamLivenessRuleTest, EveryVideoTrackMustFlow) {
  StreamLivenessRule rule(kStall);
  const absl::Duration now = kT0 + absl::Seconds(5);
  StreamLivenessRule::Verdict verdict =
      rule.Decide(Counters({Video(100, now), Video(3, kT0)}), now);
  EXPECT_EQ(verdict.state, StreamState::kStalled);
  EXPECT_EQ(verdict.reason, "no frame for 5s (track 1; stall_timeout 2s)");
}

TEST(StreamLivenessRuleTest, TrackOfUnknownMediaWithoutPacketsKeepsTheStreamStarting) {
  StreamLivenessRule rule(kStall);
  TrackCounters silent;  // No caps, no packet yet: it may well be video.
  EXPECT_EQ(rule.Decide(Counters({Audio(50, kT0), silent}), kT0).state, StreamState::kStarting);
}

TEST(RateWindowTest, RatesOverTheWindowOnly) {
  RateWindow window(absl::Seconds(5));
  // 30 fps and 1 Mbit/s for 10 s, then 10 fps and 0.25 Mbit/s for 5 s.
  uint64_t frames = 0, bytes = 0;
  absl::Duration t = kT0;
  for (int i = 0; i < 40; ++i, t += absl::Milliseconds(250)) {
    window.Add(t, frames, bytes);
    frames += 30 / 4 + (i % 2);  // 7 or 8 per 250 ms: 30 per second.
    bytes += 125000 / 4;
  }
  EXPECT_NEAR(window.frames_per_second(), 30, 0.5);
  EXPECT_NEAR(window.bits_per_second(), 1e6, 1e3);
  for (int i = 0; i < 21; ++i, t += absl::Milliseconds(250)) {
    window.Add(t, frames, bytes);
    frames += (i % 2) ? 3 : 2;
    bytes += 31250 / 4;
  }
  EXPECT_NEAR(window.frames_per_second(), 10, 0.6);
  EXPECT_NEAR(window.bits_per_second(), 250000, 2000);
}

TEST(RateWindowTest, ZeroWithFewerThanTwoSamplesAndWhenFrozen) {
  RateWindow window(absl::Seconds(5));
  EXPECT_EQ(window.frames_per_second(), 0);
  window.Add(kT0, 100, 1000);
  EXPECT_EQ(window.frames_per_second(), 0);
  // Nothing new for longer than the window: the rate falls to zero.
  for (int i = 1; i <= 30; ++i) window.Add(kT0 + i * absl::Milliseconds(250), 100, 1000);
  EXPECT_EQ(window.frames_per_second(), 0);
  EXPECT_EQ(window.bits_per_second(), 0);
}

TEST(StreamHealthTest, ReportsEachTransitionOnceAndRecoversFromAStall) {
  StreamHealth health(kStall);
  absl::Duration now = kT0;
  EXPECT_FALSE(health.Update(Counters({Video(0, std::nullopt)}), now).has_value());
  EXPECT_EQ(health.report().state, StreamState::kStarting);
  EXPECT_FALSE(health.report().last_frame_age.has_value());

  // Frames at 10 fps for 3 s.
  uint64_t frames = 0;
  absl::Duration last_frame = now;
  std::vector<StreamState> transitions;
  // 100 ms later, with a new frame or none.
  auto step = [&](bool produce) {
    now += absl::Milliseconds(100);
    if (produce) {
      ++frames;
      last_frame = now;
    }
    std::optional<StreamHealth::Transition> change =
        health.Update(Counters({Video(frames, last_frame, frames * 1000)}), now);
    if (change.has_value()) transitions.push_back(change->to);
  };
  for (int i = 0; i < 30; ++i) step(true);
  EXPECT_EQ(health.report().state, StreamState::kLive);
  EXPECT_NEAR(health.report().fps, 10, 0.01);
  EXPECT_NEAR(health.report().bits_per_second, 80000, 1);
  EXPECT_EQ(health.report().frames_produced, 30u);
  ASSERT_TRUE(health.report().last_frame_age.has_value());
  EXPECT_EQ(*health.report().last_frame_age, absl::ZeroDuration());

  // Frozen for 2.5 s: stalled once the last frame is more than 2 s old.
  for (int i = 0; i < 25; ++i) step(false);
  EXPECT_EQ(health.report().state, StreamState::kStalled);
  EXPECT_EQ(*health.report().last_frame_age, absl::Milliseconds(2500));
  EXPECT_EQ(health.report().reason, "no frame for 2.5s (track 0; stall_timeout 2s)");

  // Frames again: live at the first one.
  step(true);
  EXPECT_EQ(health.report().state, StreamState::kLive);
  EXPECT_EQ(transitions, (std::vector<StreamState>{StreamState::kLive, StreamState::kStalled,
                                                   StreamState::kLive}));
}

TEST(StreamHealthTest, FailedIsFinal) {
  StreamHealth health(kStall);
  ASSERT_TRUE(health.Update(Counters({Video(1, kT0)}), kT0).has_value());  // starting -> live
  std::optional<StreamHealth::Transition> failed =
      health.Update(Counters({Video(2, kT0 + absl::Seconds(1))}, "end of stream (track 0)"),
                    kT0 + absl::Seconds(1));
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->from, StreamState::kLive);
  EXPECT_EQ(failed->to, StreamState::kFailed);
  EXPECT_EQ(failed->reason, "end of stream (track 0)");
  // MediaLiveness never clears a failure, so the stream stays failed.
  EXPECT_FALSE(health
                   .Update(Counters({Video(3, kT0 + absl::Seconds(2))}, "end of stream (track 0)"),
                           kT0 + absl::Seconds(2))
                   .has_value());
  EXPECT_EQ(health.report().state, StreamState::kFailed);
}

TEST(StreamStateNameTest, Names) {
  EXPECT_STREQ(StreamStateName(StreamState::kStarting), "starting");
  EXPECT_STREQ(StreamStateName(StreamState::kLive), "live");
  EXPECT_STREQ(StreamStateName(StreamState::kStalled), "stalled");
  EXPECT_STREQ(StreamStateName(StreamState::kFailed), "failed");
}

}  // namespace
}  // namespace rtsptest::core
