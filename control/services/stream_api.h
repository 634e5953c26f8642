// StreamApi: the stream RPCs of rtsptest.control.v1 (List, Get, Create,
// Update, Delete, Apply) on top of core::StreamManager, the one owner of
// stream lifecycle. It validates requests, calls the manager and answers
// StreamStatus values. With config.state_file set, every change is recorded
// in the state file (StateStore) before the RPC answers; a failed write
// fails the RPC with Internal (the change stays in effect; see
// control/state/state_store.h). Answers never carry a stream's password.
//
// Codes (messages name the field and the value): InvalidArgument for a bad
// spec, mask, page size or token, or a plugin's rejection of a parameter
// or of its pipeline; NotFound for an unknown stream or plugin;
// AlreadyExists for a path in use; FailedPrecondition while a stream is
// being created, replaced or removed.
#ifndef RTSPTEST_CONTROL_SERVICES_STREAM_API_H_
#define RTSPTEST_CONTROL_SERVICES_STREAM_API_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "config/config_validator.h"
#include "control/state/state_store.h"
#include "core/listener/rtsp_listener.h"
#include "core/stream/stream_manager.h"
#include "rtsptest/config/v1/config.pb.h"
#include "rtsptest/control/v1/control.pb.h"

namespace rtsptest::control {

inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

class StreamApi {
 public:
  // Every pointer must outlive the API. `config` is the server's validated
  // config (its listeners are what a stream may name).
  // `state` (null without a state file) records every change; App builds it
  // from the file it restored (StateRestorer).
  StreamApi(core::StreamManager* streams, const config::v1::ServerConfig* config,
            std::vector<const core::RtspListener*> listeners, StateStore* state = nullptr);

  // `caller_host` (see ListenerUrl) goes into every StreamStatus.urls.
  absl::StatusOr<v1::ListStreamsResponse> List(const v1::ListStreamsRequest& request,
                                               absl::string_view caller_host) const;
  absl::StatusOr<v1::StreamStatus> Get(absl::string_view path, absl::string_view caller_host) const;
  absl::StatusOr<v1::StreamStatus> Create(const config::v1::Stream& spec,
                                          absl::string_view caller_host);
  // Atomic: the merged spec serves, or the old stream goes on unchanged. A
  // merged spec equal to the serving one changes nothing.
  absl::StatusOr<v1::StreamStatus> Update(const v1::UpdateStreamRequest& request,
                                          absl::string_view caller_host);
  absl::Status Delete(absl::string_view path);
  // InvalidArgument only for a malformed request (a path twice, an empty
  // delete path); every item's own outcome, a bad spec included, is in its
  // result.
  absl::StatusOr<v1::ApplyStreamsResponse> Apply(const v1::ApplyStreamsRequest& request);

 private:
  v1::StreamStatus ToStatus(const core::Stream& stream, absl::string_view caller_host) const;
  // `field` names the item in messages, e.g. "upsert[2]".
  v1::ApplyResult Upsert(const config::v1::Stream& spec, absl::string_view field);
  v1::ApplyResult DeleteItem(const std::string& path);
  // A spec checked with the config file's rules against this config's
  // listeners; errors name `field` ("stream", "upsert[2]").
  absl::Status Validate(const config::v1::Stream& spec, absl::string_view field) const;
  // Records the current state of `paths` in the state file, if any.
  absl::Status Persist(const std::vector<std::string>& paths);

  core::StreamManager* const streams_;
  // The server's validated config (its listeners).
  const config::v1::ServerConfig* const config_;
  const std::vector<const core::RtspListener*> listeners_;
  // Null without a state file.
  StateStore* const state_;
};

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_SERVICES_STREAM_API_H_
