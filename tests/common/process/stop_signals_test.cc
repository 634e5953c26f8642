// Tests of StopSignals and StartStopWatchdog: signals sent to the process
// itself while blocked, taken synchronously.
#include "common/process/stop_signals.h"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace rtsptest::common {
namespace {

TEST(StopSignalsTest, WaitReturnsAPendingSigterm) {
  common::StopSignals stop = common::StopSignals::Install();
  // To this thread, which blocks it: it stays pending. (A signal to the
  // process could go to a thread the test main started before Install().)
  ASSERT_EQ(pthread_kill(pthread_self(), SIGTERM), 0);
  EXPECT_EQ(stop.Wait(), SIGTERM);
}

TEST(StopSignalsTest, WaitForReturnsAPendingSigint) {
  common::StopSignals stop = common::StopSignals::Install();
  ASSERT_EQ(pthread_kill(pthread_self(), SIGINT), 0);
  EXPECT_EQ(stop.WaitFor(absl::Seconds(5)), SIGINT);
}

TEST(StopSignalsTest, WaitForTimesOutWithoutASignal) {
  common::StopSignals stop = common::StopSignals::Install();
  absl::Time start = absl::Now();
  EXPECT_EQ(stop.WaitFor(absl::Milliseconds(50)), 0);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
}

TEST(StopSignalsTest, NamesTheStopSignals) {
  EXPECT_STREQ(common::StopSignals::Name(SIGTERM), "SIGTERM");
  EXPECT_STREQ(common::StopSignals::Name(SIGINT), "SIGINT");
  EXPECT_STREQ(common::StopSignals::Name(SIGHUP), "another signal");
}

TEST(StopSignalsTest, SigpipeIsIgnored) {
  common::StopSignals::Install();
  struct sigaction action;
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &action), 0);
  EXPECT_EQ(action.sa_handler, SIG_IGN);
}

TEST(StopWatchdogDeathTest, ExitsZeroAfterTheTimeoutAndCallsBack) {
  EXPECT_EXIT(
      {
        common::StartStopWatchdog(absl::Milliseconds(20), [] { std::cerr << "watchdog expired"; });
        absl::SleepFor(absl::Seconds(10));
        std::_Exit(3);
      },
      ::testing::ExitedWithCode(0), "watchdog expired");
}

}  // namespace
}  // namespace rtsptest::common
