// StateRestorer (see header).
#include "control/state/state_restorer.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log/log.h"
#include "config/config_validator.h"
#include "control/state/state_file.h"
#include "google/protobuf/util/message_differencer.h"

namespace rtsptest::control {
namespace {

void LogFailed(const config::v1::Stream& stream, absl::string_view what,
               const absl::Status& status) {
  // Never the spec: it may hold credentials.
  common::Log(common::LogLevel::kError, "state file stream not restored",
              {{"stream", stream.path()},
               {"plugin", stream.plugin()},
               {"action", what},
               {"code", absl::StatusCodeToString(status.code())},
               {"error", std::string(status.message())}});
}

}  // namespace

absl::StatusOr<std::unique_ptr<StateStore>> StateRestorer::Restore() {
  const std::string& path = config_->state_file();
  if (path.empty()) return nullptr;
  std::set<std::string> config_paths;
  for (const config::v1::Stream& stream : config_->streams()) config_paths.insert(stream.path());
  auto empty = [&] {
    return std::make_unique<StateStore>(path, state::v1::StateFile(), config_paths);
  };
  absl::StatusOr<state::v1::StateFile> state = ReadStateFile(path);
  if (absl::IsNotFound(state.status())) {
    common::Log(common::LogLevel::kInfo, "state file absent: nothing to restore", {{"file", path}});
    return empty();
  }
  if (absl::IsDataLoss(state.status())) {
    absl::StatusOr<std::string> aside = SetStateFileAside(path, absl::Now());
    common::Log(common::LogLevel::kError, "state file unreadable: starting without it",
                {{"file", path},
                 {"error", std::string(state.status().message())},
                 {"moved_to", aside.ok() ? *aside : ""}});
    if (!aside.ok()) return aside.status();
    return empty();
  }
  if (!state.ok()) return state.status();

  int removed = 0, restored = 0, failed = 0;
  for (const std::string& deleted : state->deleted_paths()) {
    absl::Status status = streams_->Remove(deleted);
    if (status.ok()) {
      ++removed;
    } else if (!absl::IsNotFound(status)) {
      ++failed;
      config::v1::Stream named;
      named.set_path(deleted);
      LogFailed(named, "delete", status);
    }
  }
  for (const config::v1::Stream& stream : state->streams()) {
    absl::Status status = config::ConfigValidator().ValidateStream(
        *config_, stream, absl::StrCat("state file ", path, ": stream ", stream.path()));
    absl::StatusOr<core::Stream> current = streams_->Get(stream.path());
    const char* action = current.ok() ? "replace" : "create";
    if (status.ok()) {
      if (!current.ok()) {
        status = streams_->Create(stream);
      } else if (!google::protobuf::util::MessageDifferencer::Equals(current->spec, stream)) {
        status = streams_->Replace(stream);
      }
    }
    if (status.ok()) {
      ++restored;
    } else {
      ++failed;
      LogFailed(stream, action, status);
    }
  }
  common::Log(failed == 0 ? common::LogLevel::kInfo : common::LogLevel::kWarning,
              "state file restored",
              {{"file", path}, {"streams", restored}, {"deleted", removed}, {"failed", failed}});
  return std::make_unique<StateStore>(path, *state, std::move(config_paths));
}

}  // namespace rtsptest::control
