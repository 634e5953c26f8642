// Event sources (see header).
#include "core/events/event_sources.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "core/stream/stream_liveness.h"

namespace rtsptest::core {

StreamObserver PublishStreamEvents(EventLog* log) {
  return [log](const StreamEvent& change) {
    Event event;
    event.kind = "stream";
    event.type = StreamEventTypeName(change.type);
    event.stream = change.path;
    event.fields["from"] = StreamStateName(change.previous);
    event.fields["to"] = StreamStateName(change.state);
    if (!change.reason.empty()) event.fields["reason"] = change.reason;
    log->Publish(std::move(event));
  };
}

RtspListener::SessionObserver PublishSessionEvents(EventLog* log, std::string listener) {
  return [log, listener = std::move(listener)](const RtspListener::SessionEvent& session) {
    Event event;
    event.kind = "session";
    event.type = session.opened ? "opened" : "closed";
    event.stream = session.path;
    event.fields["remote"] = session.remote;
    event.fields["listener"] = listener;
    log->Publish(std::move(event));
  };
}

std::function<void(const std::string& name, std::optional<bool> was, bool serving)>
PublishHealthEvents(EventLog* log) {
  return [log](const std::string& name, std::optional<bool> was, bool serving) {
    constexpr absl::string_view kStreamPrefix = "stream:";
    Event event;
    event.kind = "health";
    event.type = "changed";
    if (absl::StartsWith(name, kStreamPrefix)) event.stream = name.substr(kStreamPrefix.size());
    event.fields["name"] = name;
    event.fields["from"] = !was ? "SERVICE_UNKNOWN" : *was ? "SERVING" : "NOT_SERVING";
    event.fields["to"] = serving ? "SERVING" : "NOT_SERVING";
    log->Publish(std::move(event));
  };
}

}  // namespace rtsptest::core
