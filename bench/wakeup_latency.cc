// wakeup_latency: how late the kernel runs a thread whose timer has fired,
// the part of every health check's latency that no server code controls.
//
//   wakeup_latency [--count N] [--period D] [--policy other|fifo]
//
// Sleeps --period (absolute deadlines on CLOCK_MONOTONIC) --count times and
// prints one JSON object: how far past each deadline the thread ran, as
// percentiles, in microseconds. --policy fifo runs the thread as SCHED_FIFO
// priority 1 (needs CAP_SYS_NICE or RLIMIT_RTPRIO); timer slack is 1 ns in
// both cases, so the two differ only in how the scheduler treats them.
// bench/capacity/fanout_bench.py --wakeup_probe runs it during a fan-out.
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

ABSL_FLAG(int, count, 4000, "number of sleeps");
ABSL_FLAG(absl::Duration, period, absl::Milliseconds(1), "time from one deadline to the next");
ABSL_FLAG(std::string, policy, "other", "other (SCHED_OTHER, nice unchanged) or fifo");

namespace {

timespec Add(timespec t, absl::Duration d) {
  const int64_t ns = t.tv_nsec + absl::ToInt64Nanoseconds(d);
  t.tv_sec += ns / 1000000000;
  t.tv_nsec = ns % 1000000000;
  return t;
}

int64_t MicrosLate(const timespec& deadline, const timespec& now) {
  return (now.tv_sec - deadline.tv_sec) * 1000000 + (now.tv_nsec - deadline.tv_nsec) / 1000;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Sleeps --period --count times and prints, as JSON, how late the thread "
      "ran after each deadline (microseconds).");
  absl::ParseCommandLine(argc, argv);
  const int count = absl::GetFlag(FLAGS_count);
  const absl::Duration period = absl::GetFlag(FLAGS_period);
  const std::string policy = absl::GetFlag(FLAGS_policy);
  if (count < 1 || period <= absl::ZeroDuration()) {
    std::fprintf(stderr, "wakeup_latency: --count must be >= 1 and --period > 0\n");
    return 1;
  }
  if (policy == "fifo") {
    const sched_param param{1};
    if (const int error = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param)) {
      std::fprintf(stderr, "wakeup_latency: SCHED_FIFO: %s\n", std::strerror(error));
      return 3;
    }
  } else if (policy != "other") {
    std::fprintf(stderr, "wakeup_latency: --policy must be other or fifo, not '%s'\n",
                 policy.c_str());
    return 1;
  }
  prctl(PR_SET_TIMERSLACK, 1UL);

  std::vector<int64_t> late;
  late.reserve(static_cast<size_t>(count));
  timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  for (int i = 0; i < count; ++i) {
    deadline = Add(deadline, period);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
    }
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    late.push_back(MicrosLate(deadline, now));
    // A thread late by more than a period starts again from now rather than
    // running the missed sleeps back to back.
    if (late.back() > absl::ToInt64Microseconds(period)) deadline = now;
  }
  std::sort(late.begin(), late.end());
  const auto at = [&late](double q) {
    return late[std::min(late.size() - 1,
                         static_cast<size_t>(q * static_cast<double>(late.size())))];
  };
  std::printf("%s\n",
              absl::StrFormat("{\"policy\": \"%s\", \"count\": %d, \"period_us\": %d, "
                              "\"late_us\": {\"p50\": %d, \"p99\": %d, \"p999\": %d, \"max\": %d}}",
                              policy, count, absl::ToInt64Microseconds(period), at(0.5), at(0.99),
                              at(0.999), late.back())
                  .c_str());
  return 0;
}
