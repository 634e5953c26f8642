// Tests for HealthMonitor with four real loopback RTSP responders: the
// k-of-n verdict as listeners go down and come back, unbound listeners,
// stalled listeners, drain, logging and option validation.
#include "health/monitor/health_monitor.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/util/loopback_responder.h"

namespace rtsptest::health {
namespace {

using testing::LoopbackResponder;

constexpr absl::Duration kInterval = absl::Milliseconds(100);
constexpr absl::Duration kTimeout = absl::Milliseconds(200);
constexpr absl::Duration kWait = absl::Seconds(5);  // Upper bound for awaits.

// Records every snapshot; lets a test wait for one that matches.
class RecordingPublisher : public HealthPublisher {
 public:
  void Publish(const HealthSnapshot& snapshot) override {
    absl::MutexLock lock(&mu_);
    snapshots_.push_back(snapshot);
  }

  // Waits for a snapshot published after the first `from` ones that
  // satisfies `pred`; returns it, or nullopt after `timeout`.
  template <typename Pred>
  std::optional<HealthSnapshot> AwaitFrom(size_t from, Pred pred, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    std::optional<HealthSnapshot> found;
    auto done = [&]() {
      for (size_t i = from; i < snapshots_.size(); ++i) {
        if (pred(snapshots_[i])) {
          found = snapshots_[i];
          return true;
        }
      }
      return false;
    };
    mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
    return found;
  }

  size_t count() {
    absl::MutexLock lock(&mu_);
    return snapshots_.size();
  }
  HealthSnapshot last() {
    absl::MutexLock lock(&mu_);
    return snapshots_.back();
  }
  std::vector<HealthSnapshot> all() {
    absl::MutexLock lock(&mu_);
    return snapshots_;
  }

 private:
  absl::Mutex mu_;
  std::vector<HealthSnapshot> snapshots_;
};

struct LogLine {
  common::LogLevel level;
  std::string message;
  LogFields fields;
};

class HealthMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 4; ++i) {
      auto r = LoopbackResponder::Start(LoopbackResponder::RtspOk());
      ASSERT_TRUE(r.ok()) << r.status();
      responders_.push_back(std::move(*r));
    }
  }

  HealthMonitorOptions Options() {
    HealthMonitorOptions o;
    for (size_t i = 0; i < responders_.size(); ++i) {
      o.listeners.push_back(
          {"rtsp-" + std::to_string(i), "127.0.0.1", responders_[i]->port(), true, "cam"});
    }
    o.interval = kInterval;
    o.timeout = kTimeout;
    o.log = [this](common::LogLevel level, const std::string& message, const LogFields& fields) {
      absl::MutexLock lock(&log_mu_);
      logs_.push_back({level, message, fields});
    };
    return o;
  }

  std::unique_ptr<HealthMonitor> StartMonitor(HealthMonitorOptions options) {
    auto monitor = HealthMonitor::Create(std::move(options), &publisher_);
    EXPECT_TRUE(monitor.ok()) << monitor.status();
    if (!monitor.ok()) return nullptr;
    EXPECT_TRUE((*monitor)->Start().ok());
    EXPECT_TRUE((*monitor)->AwaitRound(1, kWait));
    return std::move(*monitor);
  }

  HealthSnapshot ProbeNow(HealthMonitor& monitor) {
    absl::StatusOr<HealthSnapshot> s = monitor.ProbeNow(kWait);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : HealthSnapshot{};
  }

  std::vector<LogLine> logs() {
    absl::MutexLock lock(&log_mu_);
    return logs_;
  }

  std::vector<std::unique_ptr<LoopbackResponder>> responders_;
  RecordingPublisher publisher_;
  absl::Mutex log_mu_;
  std::vector<LogLine> logs_;
};

TEST_F(HealthMonitorTest, AllUpIsServing) {
  auto monitor = StartMonitor(Options());
  const HealthSnapshot s = publisher_.last();
  EXPECT_TRUE(s.first_round_done);
  EXPECT_TRUE(s.serving);
  EXPECT_EQ(s.round, 1);
  EXPECT_EQ(s.healthy_listeners, 4);
  EXPECT_EQ(s.min_healthy_listeners, 3);
  for (const ListenerHealth& h : s.listeners) {
    EXPECT_TRUE(h.serving) << h.last_error;
    EXPECT_GT(h.last_latency, absl::ZeroDuration());
  }
}

TEST_F(HealthMonitorTest, OneDownStillServingTwoDownNotServingWithinBound) {
  auto monitor = StartMonitor(Options());
  responders_[0]->Close();
  HealthSnapshot s = ProbeNow(*monitor);
  EXPECT_TRUE(s.serving);
  EXPECT_EQ(s.healthy_listeners, 3);
  EXPECT_FALSE(s.listeners[0].serving);
  EXPECT_EQ(s.listeners[0].failure, common::ProbeFailure::kRefused);
  EXPECT_EQ(s.listeners[0].last_error,
            "port " + std::to_string(responders_[0]->port()) + ": connection refused");

  // No ProbeNow here: the monitor's own schedule must notice in time.
  const size_t before = publisher_.count();
  const absl::Time closed = absl::Now();
  responders_[1]->Close();
  std::optional<HealthSnapshot> down = publisher_.AwaitFrom(
      before, [](const HealthSnapshot& x) { return !x.serving; },
      kInterval + kTimeout + absl::Seconds(1));
  ASSERT_TRUE(down.has_value()) << "still SERVING after interval + timeout + 1s";
  EXPECT_LE(absl::Now() - closed, kInterval + kTimeout + absl::Seconds(1));
  EXPECT_EQ(down->healthy_listeners, 2);
}

TEST_F(HealthMonitorTest, RestoredListenersServeAgain) {
  auto monitor = StartMonitor(Options());
  responders_[0]->Close();
  responders_[1]->Close();
  ASSERT_FALSE(ProbeNow(*monitor).serving);
  ASSERT_TRUE(responders_[0]->Reopen().ok());
  ASSERT_TRUE(responders_[1]->Reopen().ok());
  const HealthSnapshot s = ProbeNow(*monitor);
  EXPECT_TRUE(s.serving);
  EXPECT_EQ(s.healthy_listeners, 4);
  EXPECT_EQ(s.listeners[0].consecutive_failures, 0);
}

TEST_F(HealthMonitorTest, UnboundListenerIsDownWithoutProbing) {
  HealthMonitorOptions options = Options();
  options.listeners[2].bound = false;
  auto monitor = StartMonitor(std::move(options));
  const HealthSnapshot s = publisher_.last();
  EXPECT_FALSE(s.listeners[2].serving);
  EXPECT_EQ(s.listeners[2].failure, common::ProbeFailure::kNotBound);
  EXPECT_EQ(responders_[2]->accepted(), 0);  // Never probed.
  EXPECT_TRUE(s.serving);                    // 3 of 4.
}

TEST_F(HealthMonitorTest, SetListenerBoundTakesEffectNextRound) {
  auto monitor = StartMonitor(Options());
  ASSERT_TRUE(monitor->SetListenerBound("rtsp-3", false).ok());
  ASSERT_TRUE(monitor->SetListenerBound("rtsp-2", false).ok());
  HealthSnapshot s = ProbeNow(*monitor);
  EXPECT_FALSE(s.serving);
  EXPECT_EQ(s.listeners[3].failure, common::ProbeFailure::kNotBound);
  ASSERT_TRUE(monitor->SetListenerBound("rtsp-2", true).ok());
  s = ProbeNow(*monitor);
  EXPECT_TRUE(s.serving);
  EXPECT_EQ(monitor->SetListenerBound("nope", true).code(), absl::StatusCode::kNotFound);
}

TEST_F(HealthMonitorTest, StalledListenerCountsAsDown) {
  auto stalled = LoopbackResponder::Start(LoopbackResponder::Stall());
  ASSERT_TRUE(stalled.ok());
  HealthMonitorOptions options = Options();
  options.listeners[3].port = (*stalled)->port();
  options.min_healthy_listeners = 4;
  auto monitor = StartMonitor(std::move(options));
  const HealthSnapshot s = publisher_.last();
  EXPECT_EQ(s.listeners[3].failure, common::ProbeFailure::kRtspTimeout);
  EXPECT_FALSE(s.serving);  // A connect-only check would have said SERVING.
  EXPECT_GE((*stalled)->accepted(), 1);
}

TEST_F(HealthMonitorTest, DrainingIsNotServingImmediatelyAndStays) {
  auto monitor = StartMonitor(Options());
  ASSERT_TRUE(publisher_.last().serving);
  monitor->SetDraining();
  // Published before SetDraining returned: no wait needed.
  HealthSnapshot s = publisher_.last();
  EXPECT_TRUE(s.draining);
  EXPECT_FALSE(s.serving);
  // Rounds go on, all listeners still pass, and nothing says SERVING again.
  const size_t after_drain = publisher_.count();
  ProbeNow(*monitor);
  ProbeNow(*monitor);
  const std::vector<HealthSnapshot> all = publisher_.all();
  ASSERT_GT(all.size(), after_drain);
  for (size_t i = after_drain - 1; i < all.size(); ++i) {
    EXPECT_FALSE(all[i].serving) << "snapshot " << i;
    EXPECT_TRUE(all[i].draining);
  }
  EXPECT_EQ(all.back().healthy_listeners, 4);
}

TEST_F(HealthMonitorTest, LogsTransitionsWithReason) {
  auto monitor = StartMonitor(Options());
  responders_[0]->Close();
  responders_[1]->Close();
  ProbeNow(*monitor);
  const std::string port = std::to_string(responders_[0]->port());
  bool listener_down = false, overall_down = false;
  for (const LogLine& l : logs()) {
    if (l.level == common::LogLevel::kWarning &&
        l.message == "listener rtsp-0 is down: port " + port + ": connection refused") {
      listener_down = true;
      EXPECT_NE(std::find(l.fields.begin(), l.fields.end(),
                          std::make_pair(std::string("failure"), std::string("refused"))),
                l.fields.end());
    }
    if (l.level == common::LogLevel::kError &&
        l.message == "health: SERVING -> NOT_SERVING (2 of 4 listeners up, need 3)") {
      overall_down = true;
    }
  }
  EXPECT_TRUE(listener_down);
  EXPECT_TRUE(overall_down);
  // A steady state logs nothing more.
  const size_t count = logs().size();
  ProbeNow(*monitor);
  EXPECT_EQ(logs().size(), count);
}

TEST_F(HealthMonitorTest, ProbeNowWithoutStartFails) {
  auto monitor = HealthMonitor::Create(Options(), &publisher_);
  ASSERT_TRUE(monitor.ok());
  EXPECT_EQ((*monitor)->ProbeNow(kWait).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*monitor)->snapshot().round, 0);
  EXPECT_FALSE((*monitor)->snapshot().first_round_done);
}

TEST_F(HealthMonitorTest, StopIsPromptAndIdempotent) {
  auto monitor = StartMonitor(Options());
  const absl::Time start = absl::Now();
  monitor->Stop();
  monitor->Stop();
  EXPECT_LT(absl::Now() - start, kTimeout + absl::Milliseconds(500));
  EXPECT_EQ(monitor->ProbeNow(kWait).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(HealthMonitorTest, CreateValidatesOptions) {
  HealthMonitorOptions o = Options();
  o.min_healthy_listeners = 5;
  EXPECT_EQ(HealthMonitor::Create(o, &publisher_).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = Options();
  o.listeners.clear();
  EXPECT_EQ(HealthMonitor::Create(o, &publisher_).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = Options();
  o.listeners[1].name = o.listeners[0].name;
  EXPECT_EQ(HealthMonitor::Create(o, &publisher_).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = Options();
  o.interval = absl::ZeroDuration();
  EXPECT_EQ(HealthMonitor::Create(o, &publisher_).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = Options();
  o.listeners[0].port = 70000;
  EXPECT_EQ(HealthMonitor::Create(o, &publisher_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HealthMonitor::Create(Options(), nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rtsptest::health
