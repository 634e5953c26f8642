// StateStore: keeps what the control API changed (streams created or
// replaced, config-file streams deleted) and writes it to the state file
// before the RPC that changed it answers.
//
// Record() does not take the change from the caller: under its mutex it
// reads each touched path's current state from the StreamManager and
// writes the whole file. Concurrent RPCs may finish their changes in any
// order; whichever Record() runs last reads the manager after all of them,
// so the file converges to what serves, and every RPC that answers OK does
// so after a write that includes its change.
//
// Write failure policy: report, not roll back. A failed write leaves the
// change in effect and in memory (the next successful write includes it)
// and Record() returns Internal naming the file; the RPC answers that error,
// so no change is acknowledged without being on disk. Rolling back would be
// another change that can fail and that races other RPCs on the same path.
#ifndef RTSPTEST_CONTROL_STATE_STATE_STORE_H_
#define RTSPTEST_CONTROL_STATE_STATE_STORE_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "core/stream/stream_manager.h"
#include "rtsptest/config/v1/config.pb.h"
#include "rtsptest/state/v1/state.pb.h"

namespace rtsptest::control {

class StateStore {
 public:
  // Starts from `initial` (what the file held at start). `config_paths` are
  // the config file's stream paths: only their deletion is recorded (a
  // deleted API stream just leaves the file).
  StateStore(std::string path, const state::v1::StateFile& initial,
             std::set<std::string> config_paths);

  // Makes the file reflect `streams`' current state of each of `paths`, and
  // writes it (see the policy above). Safe from any thread.
  absl::Status Record(const std::vector<std::string>& paths, const core::StreamManager& streams)
      ABSL_LOCKS_EXCLUDED(mutex_);

  // What the file holds (after the last Record()).
  state::v1::StateFile Snapshot() const ABSL_LOCKS_EXCLUDED(mutex_);
  const std::string& path() const { return path_; }

 private:
  state::v1::StateFile ToProto() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const std::string path_;
  const std::set<std::string> config_paths_;
  mutable absl::Mutex mutex_;
  std::map<std::string, config::v1::Stream> streams_ ABSL_GUARDED_BY(mutex_);
  std::set<std::string> deleted_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_STATE_STATE_STORE_H_
