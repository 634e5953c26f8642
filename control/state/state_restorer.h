// StateRestorer: applies the state file at start, on top of the streams the
// config created: the recorded deletions first, then the recorded streams
// (created, or replacing the config's stream at that path).
//
// Forgiving like the config's own streams: a recorded stream that fails
// (plugin gone, listener renamed) is logged and the server starts without
// it; its record stays in the file. A file that cannot be parsed is logged
// with the parser's message and renamed aside to
// `<file>.corrupt-<UTC time>`, and the server starts without it.
#ifndef RTSPTEST_CONTROL_STATE_STATE_RESTORER_H_
#define RTSPTEST_CONTROL_STATE_STATE_RESTORER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "control/state/state_store.h"
#include "core/stream/stream_manager.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::control {

class StateRestorer {
 public:
  // `streams` must outlive the restorer; `config` is the server's validated
  // config (its listeners and its stream paths).
  StateRestorer(core::StreamManager* streams, const config::v1::ServerConfig* config)
      : streams_(streams), config_(config) {}

  // Restores config.state_file() when set, and returns the store that
  // records later changes on top of what the file held (empty when it was
  // absent or set aside); null without a state file. Fails only when the
  // file exists but cannot be read at all (FailedPrecondition: starting
  // without it would overwrite it at the first API change), or a corrupt
  // file cannot be renamed aside.
  absl::StatusOr<std::unique_ptr<StateStore>> Restore();

 private:
  core::StreamManager* const streams_;
  const config::v1::ServerConfig* const config_;
};

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_STATE_STATE_RESTORER_H_
