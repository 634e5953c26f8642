// ListSessions and KickSessions: readers' sessions over every listener.
#ifndef RTSPTEST_CONTROL_SERVICES_SESSION_API_H_
#define RTSPTEST_CONTROL_SERVICES_SESSION_API_H_

#include <vector>

#include "absl/status/statusor.h"
#include "core/listener/rtsp_listener.h"
#include "core/stream/stream_manager.h"
#include "rtsptest/control/v1/control.pb.h"

namespace rtsptest::control {

class SessionApi {
 public:
  // `streams` and the listeners must outlive the API.
  SessionApi(const core::StreamManager* streams, std::vector<core::RtspListener*> listeners)
      : streams_(streams), listeners_(std::move(listeners)) {}

  // Every session, or those of request.stream (NotFound for an unknown
  // stream), by listener then by start time.
  absl::StatusOr<v1::ListSessionsResponse> List(const v1::ListSessionsRequest& request) const;
  // Closes the selected sessions' connections. NotFound for an unknown
  // stream or session id; InvalidArgument when nothing is selected.
  absl::StatusOr<v1::KickSessionsResponse> Kick(const v1::KickSessionsRequest& request);

 private:
  const core::StreamManager* const streams_;
  const std::vector<core::RtspListener*> listeners_;
};

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_SERVICES_SESSION_API_H_
