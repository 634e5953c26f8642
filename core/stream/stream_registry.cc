// StreamRegistry implementation.
#include "core/stream/stream_registry.h"

#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log/log.h"

namespace rtsptest::server {
namespace {

absl::Status Prefixed(absl::string_view path, const absl::Status& status) {
  std::string prefix = absl::StrCat("stream ", path, ": ");
  if (absl::StartsWith(status.message(), prefix)) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

}  // namespace

StreamRegistry::StreamRegistry(PluginLoader* loader, std::vector<RtspListener*> listeners,
                               absl::Duration stall_timeout)
    : loader_(loader), listeners_(std::move(listeners)), stall_timeout_(stall_timeout) {}

StreamRegistry::~StreamRegistry() { RemoveAll(); }

void StreamRegistry::OnPlay(PlayPhase phase, absl::string_view url_path,
                            GstRTSPContext* context) const {
  absl::MutexLock lock(&mutex_);
  // The mount whose path is the longest prefix of the URL path at a '/'.
  for (absl::string_view path = url_path; !path.empty();) {
    auto it = streams_.find(path);
    if (it != streams_.end()) {
      if (phase == PlayPhase::kActivating) {
        it->second->keeper->OnReaderActivating();
      } else {
        it->second->keeper->OnReaderPlaying(context);
      }
      return;
    }
    size_t slash = path.rfind('/');
    if (slash == absl::string_view::npos || slash == 0) return;
    path = path.substr(0, slash);
  }
}

void StreamRegistry::RemoveAll() {
  absl::MutexLock lock(&mutex_);
  for (auto& [path, entry] : streams_) Unmount(*entry);
  streams_.clear();
}

absl::Status StreamRegistry::Add(const config::v1::Stream& stream) {
  const std::string& path = stream.path();
  {
    absl::MutexLock lock(&mutex_);
    if (streams_.count(path) != 0) {
      return absl::AlreadyExistsError(absl::StrCat("stream ", path, ": path already in use"));
    }
  }
  // Resolve listeners first: cheap, and a typo must not cost a pipeline.
  std::vector<RtspListener*> targets;
  for (RtspListener* listener : listeners_) {
    bool wanted = stream.listeners().empty();
    for (const std::string& name : stream.listeners()) wanted |= name == listener->name();
    if (wanted) targets.push_back(listener);
  }
  for (const std::string& name : stream.listeners()) {
    bool found = false;
    for (RtspListener* listener : targets) found |= listener->name() == name;
    if (!found) {
      return absl::NotFoundError(absl::StrCat("stream ", path, ": no listener named '", name, "'"));
    }
  }

  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader_->Load(stream.plugin());
  if (!plugin.ok()) return Prefixed(path, plugin.status());
  std::map<std::string, std::string> raw(stream.parameters().begin(), stream.parameters().end());
  absl::StatusOr<ParameterList> parameters = (*plugin)->ValidateParameters(path, raw);
  if (!parameters.ok()) return parameters.status();

  auto entry = std::make_unique<Entry>();
  entry->info.config = stream;
  entry->info.parameters = *std::move(parameters);
  // The builder runs when gst-rtsp-server asks for a media: once, through the
  // keeper below (see stream_media_factory.h). Its error is kept so that the
  // caller learns the plugin's own message, not just "no media".
  std::shared_ptr<const Plugin> owner = *plugin;
  auto build_error = std::make_shared<absl::Status>();
  entry->factory = NewStreamMediaFactory(path, [owner, path, raw, build_error] {
    absl::StatusOr<GstPtr<GstElement>> element = owner->CreateElement(path, raw);
    if (!element.ok()) *build_error = element.status();
    return element;
  });
  // Build and start the pipeline before mounting, so that readers never see
  // a stream whose plugin fails.
  absl::StatusOr<std::unique_ptr<SharedMediaKeeper>> keeper =
      SharedMediaKeeper::Create(entry->factory.get(), path);
  if (!keeper.ok()) return build_error->ok() ? keeper.status() : *build_error;
  entry->keeper = *std::move(keeper);
  entry->health = std::make_unique<StreamHealth>(stall_timeout_);

  absl::MutexLock lock(&mutex_);
  if (streams_.count(path) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("stream ", path, ": path already in use"));
  }
  for (RtspListener* listener : targets) {
    listener->Mount(path, entry->factory.get());
    entry->info.listeners.push_back(listener->name());
  }
  Log(LogLevel::kInfo, "stream mounted",
      {{"stream", path}, {"plugin", stream.plugin()},
       {"listeners", absl::StrJoin(entry->info.listeners, ",")}});
  streams_.emplace(path, std::move(entry));
  return absl::OkStatus();
}

absl::Status StreamRegistry::Remove(absl::string_view path) {
  std::unique_ptr<Entry> entry;
  {
    absl::MutexLock lock(&mutex_);
    auto it = streams_.find(path);
    if (it == streams_.end()) {
      return absl::NotFoundError(absl::StrCat("stream ", path, ": no such stream"));
    }
    entry = std::move(it->second);
    streams_.erase(it);
    Unmount(*entry);
  }
  Log(LogLevel::kInfo, "stream removed", {{"stream", std::string(path)}});
  return absl::OkStatus();
}

void StreamRegistry::Unmount(const Entry& entry) {
  for (RtspListener* listener : listeners_) {
    for (const std::string& name : entry.info.listeners) {
      if (name == listener->name()) listener->Unmount(entry.info.config.path());
    }
  }
}

std::vector<StreamInfo> StreamRegistry::List() const {
  absl::MutexLock lock(&mutex_);
  std::vector<StreamInfo> result;
  for (const auto& [path, entry] : streams_) {
    StreamInfo info = entry->info;
    info.readers = entry->keeper->readers();
    info.bytes_produced = entry->keeper->bytes_produced();
    info.health = entry->health->report();
    result.push_back(std::move(info));
  }
  return result;
}

std::vector<StreamLiveness> StreamRegistry::EvaluateLiveness() {
  absl::MutexLock lock(&mutex_);
  std::vector<StreamLiveness> result;
  result.reserve(streams_.size());
  for (const auto& [path, entry] : streams_) {
    std::optional<StreamHealth::Transition> change =
        entry->health->Update(entry->keeper->liveness().Read(), MonotonicNow());
    if (change.has_value()) {
      const StreamHealthReport& report = entry->health->report();
      LogLevel level = change->to == StreamState::kFailed    ? LogLevel::kError
                       : change->to == StreamState::kStalled ? LogLevel::kWarning
                                                             : LogLevel::kInfo;
      Log(level,
          absl::StrCat("stream ", path, ": ", StreamStateName(change->from), " -> ",
                       StreamStateName(change->to)),
          {{"stream", path},
           {"from", StreamStateName(change->from)},
           {"to", StreamStateName(change->to)},
           {"reason", change->reason},
           {"frames", static_cast<int64_t>(report.frames_produced)},
           {"stall_timeout_ms", static_cast<int64_t>(absl::ToInt64Milliseconds(stall_timeout_))}});
    }
    result.push_back({path, entry->health->report().state});
  }
  return result;
}

absl::StatusOr<GstPtr<GstElement>> StreamRegistry::FindElement(absl::string_view path,
                                                               absl::string_view name) const {
  absl::MutexLock lock(&mutex_);
  auto it = streams_.find(path);
  if (it == streams_.end()) return absl::NotFoundError(absl::StrCat("stream ", path, ": no such stream"));
  GstPtr<GstElement> top(gst_rtsp_media_get_element(it->second->keeper->media()));
  if (top == nullptr || !GST_IS_BIN(top.get())) {
    return absl::NotFoundError(absl::StrCat("stream ", path, ": no element named '", name, "'"));
  }
  // Searches the stream's bin and every bin inside it.
  GstPtr<GstElement> found(gst_bin_get_by_name(GST_BIN(top.get()), std::string(name).c_str()));
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat("stream ", path, ": no element named '", name, "'"));
  }
  return found;
}

}  // namespace rtsptest::server
