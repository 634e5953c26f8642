// SessionApi (see header).
#include "control/services/session_api.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/time/proto_time.h"

namespace rtsptest::control {

absl::StatusOr<v1::ListSessionsResponse> SessionApi::List(
    const v1::ListSessionsRequest& request) const {
  if (!request.stream().empty()) {
    if (absl::StatusOr<core::Stream> stream = streams_->Get(request.stream()); !stream.ok()) {
      return stream.status();
    }
  }
  v1::ListSessionsResponse response;
  for (const core::RtspListener* listener : listeners_) {
    std::vector<core::SessionInfo> sessions = listener->ListSessions();
    std::sort(
        sessions.begin(), sessions.end(),
        [](const core::SessionInfo& a, const core::SessionInfo& b) { return a.since < b.since; });
    for (const core::SessionInfo& info : sessions) {
      if (!request.stream().empty() && info.path != request.stream()) continue;
      v1::Session* session = response.add_sessions();
      session->set_id(info.id);
      session->set_stream(info.path);
      session->set_listener(listener->name());
      session->set_remote(info.remote);
      session->set_transport(info.transport);
      *session->mutable_since() = common::ToProtoTimestamp(info.since);
      session->set_bytes_sent(info.bytes_sent);
      session->set_packets_sent(info.packets_sent);
    }
  }
  return response;
}

absl::StatusOr<v1::KickSessionsResponse> SessionApi::Kick(const v1::KickSessionsRequest& request) {
  core::KickSelector selector;
  switch (request.selector_case()) {
    case v1::KickSessionsRequest::kStream:
      if (absl::StatusOr<core::Stream> stream = streams_->Get(request.stream()); !stream.ok()) {
        return stream.status();
      }
      selector = core::KickSelector::Path(request.stream());
      break;
    case v1::KickSessionsRequest::kSessionId:
      selector = core::KickSelector::SessionId(request.session_id());
      break;
    case v1::KickSessionsRequest::kAll:
      if (!request.all()) {
        return absl::InvalidArgumentError(
            "all: false selects nothing; set stream, session_id or all");
      }
      selector = core::KickSelector::All();
      break;
    default:
      return absl::InvalidArgumentError("select the sessions: stream, session_id or all");
  }
  int kicked = 0;
  for (core::RtspListener* listener : listeners_) kicked += listener->KickSessions(selector);
  if (kicked == 0 && request.selector_case() == v1::KickSessionsRequest::kSessionId) {
    return absl::NotFoundError(absl::StrCat("session ", request.session_id(), ": no such session"));
  }
  v1::KickSessionsResponse response;
  response.set_kicked(static_cast<uint32_t>(kicked));
  return response;
}

}  // namespace rtsptest::control
