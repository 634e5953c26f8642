// WatchEvents: the server's EventLog, filtered and written to one watcher.
#ifndef RTSPTEST_CONTROL_SERVICES_EVENT_WATCH_H_
#define RTSPTEST_CONTROL_SERVICES_EVENT_WATCH_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/sync_stream.h>

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "core/events/event_log.h"
#include "rtsptest/control/v1/control.pb.h"

namespace rtsptest::control {

// What one watcher asked for. InvalidArgument for an unknown kind.
class EventFilter {
 public:
  static absl::StatusOr<EventFilter> Create(const v1::WatchEventsRequest& request);
  bool Matches(const core::Event& event) const;

 private:
  EventFilter() = default;
  // Empty: every kind.
  std::set<std::string> kinds_;
  std::string stream_;
};

v1::Event ToProto(const core::Event& event);

// Writes the events `filter` matches, from the kept ones after
// `request.after_sequence` (or from now), until the call is cancelled or a
// write fails (the watcher left).
grpc::Status WatchEvents(const core::EventLog& log, const v1::WatchEventsRequest& request,
                         grpc::ServerContext* context, grpc::ServerWriter<v1::Event>* writer);

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_SERVICES_EVENT_WATCH_H_
