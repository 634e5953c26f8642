// The server's event sources, published into an EventLog: stream lifecycle
// (StreamManager's observer) and reader sessions (each listener's).
#ifndef RTSPTEST_CORE_EVENTS_EVENT_SOURCES_H_
#define RTSPTEST_CORE_EVENTS_EVENT_SOURCES_H_

#include <functional>
#include <optional>
#include <string>

#include "core/events/event_log.h"
#include "core/listener/rtsp_listener.h"
#include "core/stream/stream.h"

namespace rtsptest::core {

// An observer for StreamManager::SetObserver: kind "stream", the event's
// type, fields from/to/reason. `log` must outlive it.
StreamObserver PublishStreamEvents(EventLog* log);

// An observer for RtspListener::SetSessionObserver: kind "session", type
// opened/closed, fields remote and listener. `log` must outlive it.
RtspListener::SessionObserver PublishSessionEvents(EventLog* log, std::string listener);

// An observer for GrpcHealthPublisher::SetChangeObserver: kind "health",
// type "changed", fields name, from, to ("SERVING" / "NOT_SERVING"; from is
// "SERVICE_UNKNOWN" for a new name); the stream of a "stream:<path>" name.
// `log` must outlive it.
std::function<void(const std::string& name, std::optional<bool> was, bool serving)>
PublishHealthEvents(EventLog* log);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_EVENTS_EVENT_SOURCES_H_
