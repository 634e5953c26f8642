// EventLog: what happened in the server, in order, for WatchEvents.
//
// Every event gets the next sequence number and the time it was published.
// The log keeps the last kCapacity events, so that a watcher that was slow,
// or one that reconnects with the last sequence it saw, misses nothing that
// is still kept. Publish() never blocks on a watcher.
#ifndef RTSPTEST_CORE_EVENTS_EVENT_LOG_H_
#define RTSPTEST_CORE_EVENTS_EVENT_LOG_H_

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace rtsptest::core {

struct Event {
  uint64_t sequence = 0;  // from 1, set by Publish()
  absl::Time time;        // set by Publish()
  // "stream" or "session".
  std::string kind;
  // stream: created, create_failed, state_changed, removed;
  // session: opened, closed.
  std::string type;
  // The stream's path.
  std::string stream;
  // e.g. from/to/reason of a state change, remote/listener of a session.
  std::map<std::string, std::string> fields;
};

class EventLog {
 public:
  static constexpr size_t kCapacity = 4096;

  // Stamps `event` with the next sequence number and the time, and keeps it.
  void Publish(Event event) ABSL_LOCKS_EXCLUDED(mutex_);

  // The kept events after `after_sequence`, oldest first; waits up to
  // `timeout` for one when there is none yet. Empty on timeout.
  std::vector<Event> WaitAfter(uint64_t after_sequence, absl::Duration timeout) const
      ABSL_LOCKS_EXCLUDED(mutex_);

  // The sequence number of the last event published (0: none yet).
  uint64_t last_sequence() const ABSL_LOCKS_EXCLUDED(mutex_);

 private:
  mutable absl::Mutex mutex_;
  std::deque<Event> events_ ABSL_GUARDED_BY(mutex_);
  uint64_t last_sequence_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_EVENTS_EVENT_LOG_H_
