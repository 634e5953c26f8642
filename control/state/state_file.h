// The state file on disk: read it, write it atomically, set a corrupt one
// aside. No policy here: StateStore decides what goes in, StateRestorer
// what comes out.
//
// Atomic write: the JSON goes to a temporary file in the same directory
// (mode 0600: it holds stream credentials), which is fsync'ed and renamed
// over the file; then the directory is fsync'ed so that the rename itself
// survives a power cut. A reader (or a crash at any moment) sees either the
// old file or the new one, whole.
#ifndef RTSPTEST_CONTROL_STATE_STATE_FILE_H_
#define RTSPTEST_CONTROL_STATE_STATE_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rtsptest/state/v1/state.pb.h"

namespace rtsptest::control {

inline constexpr uint32_t kStateFileVersion = 1;

// NotFound when `path` does not exist; DataLoss when it is not a state file
// this server can read (bad JSON, an unknown field, another version), with
// the parser's message; FailedPrecondition when it cannot be read at all
// (permissions, a directory). Messages name the file.
absl::StatusOr<state::v1::StateFile> ReadStateFile(const std::string& path);

// Replaces `path` with `state` (its version set to kStateFileVersion),
// atomically and durably (see above). On error the old file is untouched
// and the temporary file removed; the message names the file and the
// failed system call.
absl::Status WriteStateFile(const std::string& path, const state::v1::StateFile& state);

// Renames `path` to `<path>.corrupt-<UTC time of now>` and returns the new
// name.
absl::StatusOr<std::string> SetStateFileAside(const std::string& path, absl::Time now);

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_STATE_STATE_FILE_H_
