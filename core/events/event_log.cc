// EventLog (see header).
#include "core/events/event_log.h"

#include <utility>

#include "absl/time/clock.h"

namespace rtsptest::core {

void EventLog::Publish(Event event) {
  absl::MutexLock lock(&mutex_);
  event.sequence = ++last_sequence_;
  event.time = absl::Now();
  events_.push_back(std::move(event));
  if (events_.size() > kCapacity) events_.pop_front();
}

std::vector<Event> EventLog::WaitAfter(uint64_t after_sequence, absl::Duration timeout) const {
  absl::MutexLock lock(&mutex_);
  auto arrived = [this, after_sequence]()
                     ABSL_SHARED_LOCKS_REQUIRED(mutex_) { return last_sequence_ > after_sequence; };
  mutex_.AwaitWithTimeout(absl::Condition(&arrived), timeout);
  std::vector<Event> out;
  for (const Event& event : events_) {
    if (event.sequence > after_sequence) out.push_back(event);
  }
  return out;
}

uint64_t EventLog::last_sequence() const {
  absl::MutexLock lock(&mutex_);
  return last_sequence_;
}

}  // namespace rtsptest::core
