// WatchEvents (see header).
#include "control/services/event_watch.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/time/proto_time.h"
#include "control/services/status_convert.h"

namespace rtsptest::control {
namespace {

// How often a quiet watch looks whether its caller has gone.
constexpr absl::Duration kCancelCheck = absl::Milliseconds(250);

constexpr const char* kKinds[] = {"stream", "session", "fault", "health"};

}  // namespace

absl::StatusOr<EventFilter> EventFilter::Create(const v1::WatchEventsRequest& request) {
  EventFilter filter;
  for (int i = 0; i < request.kinds_size(); ++i) {
    const std::string& kind = request.kinds(i);
    if (std::find(std::begin(kKinds), std::end(kKinds), kind) == std::end(kKinds)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "kinds[", i, "]: '", kind, "' is not an event kind (", absl::StrJoin(kKinds, ", "), ")"));
    }
    filter.kinds_.insert(kind);
  }
  filter.stream_ = request.stream();
  return filter;
}

bool EventFilter::Matches(const core::Event& event) const {
  if (!kinds_.empty() && kinds_.count(event.kind) == 0) return false;
  return stream_.empty() || event.stream == stream_;
}

v1::Event ToProto(const core::Event& event) {
  v1::Event out;
  out.set_sequence(event.sequence);
  *out.mutable_time() = common::ToProtoTimestamp(event.time);
  out.set_kind(event.kind);
  out.set_type(event.type);
  out.set_stream(event.stream);
  for (const auto& [key, value] : event.fields) (*out.mutable_fields())[key] = value;
  return out;
}

grpc::Status WatchEvents(const core::EventLog& log, const v1::WatchEventsRequest& request,
                         grpc::ServerContext* context, grpc::ServerWriter<v1::Event>* writer) {
  absl::StatusOr<EventFilter> filter = EventFilter::Create(request);
  if (!filter.ok()) return ToGrpcStatus(filter.status());
  uint64_t cursor = request.has_after_sequence() ? request.after_sequence() : log.last_sequence();
  // Headers now, so that the caller knows the watch is on before any event.
  writer->SendInitialMetadata();
  while (!context->IsCancelled()) {
    for (const core::Event& event : log.WaitAfter(cursor, kCancelCheck)) {
      cursor = event.sequence;
      if (filter->Matches(event) && !writer->Write(ToProto(event))) return grpc::Status::OK;
    }
  }
  return grpc::Status::OK;
}

}  // namespace rtsptest::control
