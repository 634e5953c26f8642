// ListenerWatchdog implementation.
#include "control/grpc_server/listener_watchdog.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/log/log.h"

namespace rtsptest::control {

ListenerWatchdog::ListenerWatchdog(Options options, Probe probe, Rebuild rebuild)
    : options_(options), probe_(std::move(probe)), rebuild_(std::move(rebuild)) {}

ListenerWatchdog::~ListenerWatchdog() { Stop(); }

void ListenerWatchdog::Start() {
  last_accepted_ = absl::Now();
  thread_ = std::thread([this] { Run(); });
}

void ListenerWatchdog::Stop() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

int ListenerWatchdog::recoveries() const {
  absl::MutexLock lock(&mutex_);
  return recoveries_;
}

void ListenerWatchdog::Run() {
  absl::Time next = absl::Now() + options_.interval;
  while (true) {
    {
      absl::MutexLock lock(&mutex_);
      auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) { return stopping_; };
      mutex_.AwaitWithDeadline(absl::Condition(&stopping), next);
      if (stopping_) return;
    }
    // At most one probe per interval, however long the last one took; while
    // descriptors are exhausted only a socket() call is tried, more often, so
    // that the rebuild follows soon after they return.
    absl::Duration wait = options_.interval;
    const AcceptProbeResult result = Tick();
    if (result == AcceptProbeResult::kNoDescriptor) wait = options_.interval / 4;
    if (failures_in_a_row_ >= options_.failures_before_slowing) wait = options_.failing_interval;
    next = std::max(next + wait, absl::Now());
  }
}

AcceptProbeResult ListenerWatchdog::Tick() {
  const AcceptProbeResult result = probe_();
  if (result == AcceptProbeResult::kFailed) {
    if (++failures_in_a_row_ == options_.failures_before_slowing) {
      common::Log(common::LogLevel::kWarning,
                  "gRPC port self-check keeps failing without hanging (mTLS: do the client CAs "
                  "accept the server's own certificate as a client certificate?); it cannot "
                  "tell whether the port accepts, and checks less often",
                  {{"grpc_port", options_.port},
                   {"failures", failures_in_a_row_},
                   {"interval", absl::FormatDuration(options_.failing_interval)}});
    }
    return result;
  }
  if (result != AcceptProbeResult::kNoDescriptor) failures_in_a_row_ = 0;
  if (result == AcceptProbeResult::kAccepted) {
    last_accepted_ = absl::Now();
    rebuild_failure_logged_ = false;
    return result;
  }
  if (result != AcceptProbeResult::kNotAccepted) return result;
  const absl::Duration dead_for = absl::Now() - last_accepted_;
  {
    // Stop() must not wait behind a rebuild that starts after it.
    absl::MutexLock lock(&mutex_);
    if (stopping_) return result;
  }
  if (absl::Status status = rebuild_(); !status.ok()) {
    if (!rebuild_failure_logged_) {
      common::Log(common::LogLevel::kError,
                  "gRPC port stopped accepting connections and cannot be rebuilt yet; retrying "
                  "every interval",
                  {{"grpc_port", options_.port},
                   {"error", std::string(status.message())},
                   {"interval", absl::FormatDuration(options_.interval)}});
      rebuild_failure_logged_ = true;
    }
    return result;
  }
  common::Log(common::LogLevel::kWarning,
              "gRPC port had stopped accepting connections (file descriptors exhausted?); "
              "rebuilt the gRPC server on the same port (dead_for: since the port last "
              "answered a self-check)",
              {{"grpc_port", options_.port}, {"dead_for", absl::FormatDuration(dead_for)}});
  {
    absl::MutexLock lock(&mutex_);
    ++recoveries_;
  }
  last_accepted_ = absl::Now();
  rebuild_failure_logged_ = false;
  return result;
}

}  // namespace rtsptest::control
