// ListenerWatchdog with a scripted probe: a probe that hangs unanswered
// rebuilds the port once; a probe that could not open a descriptor, or
// failed otherwise, rebuilds nothing; a failed rebuild is retried; probes
// that keep failing slow down. Real time, short intervals.
#include "control/grpc_server/listener_watchdog.h"

#include <deque>
#include <utility>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace rtsptest::control {
namespace {

constexpr absl::Duration kInterval = absl::Milliseconds(10);
constexpr absl::Duration kWait = absl::Seconds(5);

// Probe results in order, then kAccepted forever; counts the rebuilds.
class Script {
 public:
  explicit Script(std::deque<AcceptProbeResult> results, int failing_rebuilds = 0)
      : scripted_(static_cast<int>(results.size())),
        results_(std::move(results)),
        failing_rebuilds_(failing_rebuilds) {}

  AcceptProbeResult Probe() {
    absl::MutexLock lock(&mutex_);
    ++probes_;
    if (results_.empty()) return AcceptProbeResult::kAccepted;
    AcceptProbeResult result = results_.front();
    results_.pop_front();
    return result;
  }
  absl::Status Rebuild() {
    absl::MutexLock lock(&mutex_);
    ++rebuild_calls_;
    if (failing_rebuilds_ > 0) {
      --failing_rebuilds_;
      return absl::UnavailableError("port in use");
    }
    return absl::OkStatus();
  }
  // Waits until every scripted result was used and one more probe ran.
  bool AwaitDone() {
    absl::MutexLock lock(&mutex_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return probes_ > scripted_; };
    return mutex_.AwaitWithTimeout(absl::Condition(&done), kWait);
  }
  int rebuild_calls() {
    absl::MutexLock lock(&mutex_);
    return rebuild_calls_;
  }

 private:
  const int scripted_;
  absl::Mutex mutex_;
  std::deque<AcceptProbeResult> results_ ABSL_GUARDED_BY(mutex_);
  int failing_rebuilds_ ABSL_GUARDED_BY(mutex_);
  int probes_ ABSL_GUARDED_BY(mutex_) = 0;
  int rebuild_calls_ ABSL_GUARDED_BY(mutex_) = 0;
};

ListenerWatchdog::Options TestOptions() {
  ListenerWatchdog::Options options;
  options.interval = kInterval;
  options.port = 1234;
  return options;
}

int RunScript(Script& script, int* recoveries) {
  ListenerWatchdog watchdog(
      TestOptions(), [&script] { return script.Probe(); }, [&script] { return script.Rebuild(); });
  watchdog.Start();
  EXPECT_TRUE(script.AwaitDone());
  watchdog.Stop();
  *recoveries = watchdog.recoveries();
  return script.rebuild_calls();
}

TEST(ListenerWatchdogTest, UnansweredProbeRebuildsOnce) {
  Script script({AcceptProbeResult::kAccepted, AcceptProbeResult::kNotAccepted});
  int recoveries = 0;
  EXPECT_EQ(RunScript(script, &recoveries), 1);
  EXPECT_EQ(recoveries, 1);
}

TEST(ListenerWatchdogTest, NoDescriptorOrOtherFailureRebuildsNothing) {
  Script script({AcceptProbeResult::kNoDescriptor, AcceptProbeResult::kNoDescriptor,
                 AcceptProbeResult::kFailed, AcceptProbeResult::kAccepted});
  int recoveries = 0;
  EXPECT_EQ(RunScript(script, &recoveries), 0);
  EXPECT_EQ(recoveries, 0);
}

TEST(ListenerWatchdogTest, FailedRebuildIsRetriedOnTheNextUnansweredProbe) {
  Script script({AcceptProbeResult::kNotAccepted, AcceptProbeResult::kNotAccepted,
                 AcceptProbeResult::kNotAccepted},
                /*failing_rebuilds=*/2);
  int recoveries = 0;
  EXPECT_EQ(RunScript(script, &recoveries), 3);
  EXPECT_EQ(recoveries, 1);
}

// Counts the probes a watchdog makes in 550 ms when every one returns
// `result`.
int ProbesIn550Ms(ListenerWatchdog::Options options, AcceptProbeResult result) {
  int probes = 0;
  absl::Mutex mutex;
  ListenerWatchdog watchdog(
      options,
      [&] {
        absl::MutexLock lock(&mutex);
        ++probes;
        return result;
      },
      [] { return absl::OkStatus(); });
  watchdog.Start();
  absl::SleepFor(absl::Milliseconds(550));  // a measurement window, not a sync
  watchdog.Stop();
  absl::MutexLock lock(&mutex);
  return probes;
}

TEST(ListenerWatchdogTest, FailingProbesSlowDown) {
  ListenerWatchdog::Options options = TestOptions();
  options.interval = absl::Milliseconds(20);
  options.failures_before_slowing = 3;
  options.failing_interval = absl::Seconds(10);
  // 3 at 20 ms intervals, then the next one only after 10 s.
  EXPECT_EQ(ProbesIn550Ms(options, AcceptProbeResult::kFailed), 3);
}

TEST(ListenerWatchdogTest, ProbesAtMostOncePerInterval) {
  ListenerWatchdog::Options options = TestOptions();
  options.interval = absl::Milliseconds(100);
  const int probes = ProbesIn550Ms(options, AcceptProbeResult::kAccepted);
  EXPECT_LE(probes, 5);
  EXPECT_GE(probes, 1);
}

}  // namespace
}  // namespace rtsptest::control
