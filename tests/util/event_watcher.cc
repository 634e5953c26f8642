// EventWatcher (see header).
#include "tests/util/event_watcher.h"

namespace rtsptest::testing {

EventWatcher::EventWatcher(control::v1::ControlService::Stub* stub,
                           const control::v1::WatchEventsRequest& request) {
  reader_ = stub->WatchEvents(&context_, request);
  reader_->WaitForInitialMetadata();
  thread_ = std::thread([this] {
    control::v1::Event event;
    while (reader_->Read(&event)) {
      absl::MutexLock lock(&mutex_);
      events_.push_back(event);
    }
    absl::MutexLock lock(&mutex_);
    ended_ = true;
  });
}

EventWatcher::~EventWatcher() {
  context_.TryCancel();
  thread_.join();
}

std::vector<control::v1::Event> EventWatcher::Await(size_t count, absl::Duration timeout) {
  absl::MutexLock lock(&mutex_);
  auto enough = [this, count]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) {
    return events_.size() >= count || ended_;
  };
  mutex_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  return events_;
}

}  // namespace rtsptest::testing
