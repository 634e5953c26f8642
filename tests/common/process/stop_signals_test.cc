// Tests of StopSignals and StartStopWatchdog: signals sent to the process
// itself while blocked, taken synchronously.
#include "common/process/stop_signals.h"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
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
  EXPECT_STREQ(common::StopSignals::Name(SIGQUIT), "SIGQUIT");
  EXPECT_STREQ(common::StopSignals::Name(SIGWINCH), "another signal");
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

TEST(StopSignalsTest, WaitReturnsAPendingSigquitAsAStopSignal) {
  common::StopSignals stop = common::StopSignals::Install();
  ASSERT_EQ(pthread_kill(pthread_self(), SIGQUIT), 0);
  EXPECT_EQ(stop.WaitFor(absl::Seconds(5)), SIGQUIT);
}

// Lines of the captured log that contain `text`.
int CountLines(const std::string& log, const std::string& text) {
  int count = 0;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (line.find(text) != absl::string_view::npos) ++count;
  }
  return count;
}

TEST(StopSignalsTest, WaitLogsEachIgnoredSignalOnceAndReturnsOnlyTheStopSignal) {
  common::StopSignals stop = common::StopSignals::Install();
  ::testing::internal::CaptureStdout();
  // SIGHUP twice, with a Wait in between so that the second is a separate
  // arrival rather than one coalesced pending signal.
  ASSERT_EQ(pthread_kill(pthread_self(), SIGHUP), 0);
  ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR1), 0);
  ASSERT_EQ(pthread_kill(pthread_self(), SIGTERM), 0);
  const int first = stop.Wait();
  ASSERT_EQ(pthread_kill(pthread_self(), SIGHUP), 0);
  ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR2), 0);
  ASSERT_EQ(pthread_kill(pthread_self(), SIGALRM), 0);
  const int second = stop.WaitFor(absl::Milliseconds(200));
  const std::string log = ::testing::internal::GetCapturedStdout();

  EXPECT_EQ(first, SIGTERM);
  EXPECT_EQ(second, 0);  // only ignored signals: the wait timed out
  EXPECT_EQ(CountLines(log, "signal SIGHUP ignored: configuration reload is not supported"), 1)
      << log;
  EXPECT_EQ(CountLines(log, "signal SIGUSR1 ignored: "), 1) << log;
  EXPECT_EQ(CountLines(log, "signal SIGUSR2 ignored: "), 1) << log;
  EXPECT_EQ(CountLines(log, "signal SIGALRM ignored: "), 1) << log;
}

TEST(StopSignalsTest, NamesWhyEachIgnoredSignalIsIgnored) {
  EXPECT_STREQ(common::StopSignals::IgnoredBecause(SIGHUP),
               "configuration reload is not supported; restart the server to change it");
  EXPECT_NE(common::StopSignals::IgnoredBecause(SIGUSR1), nullptr);
  EXPECT_NE(common::StopSignals::IgnoredBecause(SIGUSR2), nullptr);
  EXPECT_NE(common::StopSignals::IgnoredBecause(SIGALRM), nullptr);
  EXPECT_EQ(common::StopSignals::IgnoredBecause(SIGTERM), nullptr);
  EXPECT_EQ(common::StopSignals::IgnoredBecause(SIGQUIT), nullptr);
}

TEST(StopSignalsDeathTest, ReleasedStopSignalsEndTheProcessWithTheirDefaultAction) {
  EXPECT_EXIT(
      {
        const common::StopSignals stop = common::StopSignals::Install();
        stop.ReleaseStopSignals();
        pthread_kill(pthread_self(), SIGTERM);
        std::_Exit(3);
      },
      ::testing::KilledBySignal(SIGTERM), "");
}

}  // namespace
}  // namespace rtsptest::common
