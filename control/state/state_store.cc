// StateStore (see header).
#include "control/state/state_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "control/state/state_file.h"

namespace rtsptest::control {

StateStore::StateStore(std::string path, const state::v1::StateFile& initial,
                       std::set<std::string> config_paths)
    : path_(std::move(path)), config_paths_(std::move(config_paths)) {
  for (const config::v1::Stream& stream : initial.streams()) streams_[stream.path()] = stream;
  deleted_.insert(initial.deleted_paths().begin(), initial.deleted_paths().end());
}

absl::Status StateStore::Record(const std::vector<std::string>& paths,
                                const core::StreamManager& streams) {
  absl::MutexLock lock(&mutex_);
  for (const std::string& path : paths) {
    absl::StatusOr<core::Stream> current = streams.Get(path);
    if (current.ok()) {
      streams_[path] = current->spec;
      deleted_.erase(path);
    } else if (absl::IsNotFound(current.status())) {
      streams_.erase(path);
      if (config_paths_.count(path) != 0) deleted_.insert(path);
    }
  }
  // Under the lock: writes are serialized, and each one carries every
  // change recorded before it.
  return WriteStateFile(path_, ToProto());
}

state::v1::StateFile StateStore::ToProto() const {
  state::v1::StateFile state;
  state.set_version(kStateFileVersion);
  for (const auto& [path, stream] : streams_) *state.add_streams() = stream;
  for (const std::string& path : deleted_) state.add_deleted_paths(path);
  return state;
}

state::v1::StateFile StateStore::Snapshot() const {
  absl::MutexLock lock(&mutex_);
  return ToProto();
}

}  // namespace rtsptest::control
