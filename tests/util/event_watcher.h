// EventWatcher: a WatchEvents call whose events a thread collects, for tests
// that await what the server announces.
#ifndef RTSPTEST_TESTS_UTIL_EVENT_WATCHER_H_
#define RTSPTEST_TESTS_UTIL_EVENT_WATCHER_H_

#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "rtsptest/control/v1/control.grpc.pb.h"

namespace rtsptest::testing {

class EventWatcher {
 public:
  // Returns once the watch is on (the server sent its headers).
  EventWatcher(control::v1::ControlService::Stub* stub,
               const control::v1::WatchEventsRequest& request);
  ~EventWatcher();

  // Waits until `count` events arrived (or the call ended, or `timeout`)
  // and returns every event so far.
  std::vector<control::v1::Event> Await(size_t count, absl::Duration timeout);

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<control::v1::Event>> reader_;
  std::thread thread_;
  absl::Mutex mutex_;
  std::vector<control::v1::Event> events_ ABSL_GUARDED_BY(mutex_);
  bool ended_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace rtsptest::testing

#endif  // RTSPTEST_TESTS_UTIL_EVENT_WATCHER_H_
