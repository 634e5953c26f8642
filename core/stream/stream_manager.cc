// StreamManager: reserve, build outside the lock, publish or release.
#include "core/stream/stream_manager.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log/log.h"

namespace rtsptest::core {
namespace {

absl::Status Prefixed(absl::string_view path, const absl::Status& status) {
  std::string prefix = absl::StrCat("stream ", path, ": ");
  if (absl::StartsWith(status.message(), prefix)) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

absl::Status NoSuchStream(absl::string_view path) {
  return absl::NotFoundError(absl::StrCat("stream ", path, ": no such stream"));
}

}  // namespace

StreamManager::StreamManager(PluginLoader* loader, std::vector<RtspListener*> listeners,
                             absl::Duration stall_timeout, StreamObserver observer)
    : loader_(loader),
      listeners_(std::move(listeners)),
      stall_timeout_(stall_timeout),
      observer_(std::move(observer)) {}

StreamManager::~StreamManager() { RemoveAll(); }

void StreamManager::SetObserver(StreamObserver observer) {
  absl::MutexLock lock(&observer_mutex_);
  observer_ = std::move(observer);
}

void StreamManager::Emit(const StreamEvent& event) const {
  StreamObserver observer;
  {
    absl::MutexLock lock(&observer_mutex_);
    observer = observer_;
  }
  if (observer) observer(event);
}

absl::Status StreamManager::Create(const config::v1::Stream& spec, OnCreateFailure on_failure) {
  const std::string& path = spec.path();
  // Reserve the path first: a concurrent create of the same path fails here
  // at once instead of building a second pipeline.
  {
    absl::MutexLock lock(&mutex_);
    if (streams_.count(path) != 0) {
      return absl::AlreadyExistsError(absl::StrCat("stream ", path, ": path already in use"));
    }
    auto entry = std::make_unique<Entry>(stall_timeout_);
    entry->stream.spec = spec;
    entry->stream.status.health.reason = "being created";
    streams_.emplace(path, std::move(entry));
  }
  // Resolve listeners first: cheap, and a typo must not cost a pipeline.
  std::vector<RtspListener*> targets = Targets(spec);
  ParameterList parameters;
  absl::StatusOr<std::unique_ptr<StreamMedia>> media = Build(spec, targets, &parameters);
  if (!media.ok()) {
    {
      absl::MutexLock lock(&mutex_);
      if (on_failure == OnCreateFailure::kKeepFailed) {
        // Reported like any stream, with why: List(), Get(), health.
        Entry& entry = *streams_.at(path);
        entry.phase = Entry::Phase::kFailed;
        entry.stream.state = StreamState::kFailed;
        entry.stream.status.parameters = std::move(parameters);
        entry.stream.status.health = StreamHealthReport{};
        entry.stream.status.health.state = StreamState::kFailed;
        entry.stream.status.health.reason = std::string(media.status().message());
      } else {
        streams_.erase(path);
      }
    }
    Emit({StreamEvent::Type::kCreateFailed, path, StreamState::kStarting, StreamState::kFailed,
          std::string(media.status().message())});
    return media.status();
  }
  std::vector<std::string> listener_names;
  {
    absl::MutexLock lock(&mutex_);
    Entry& entry = *streams_.at(path);
    entry.media = *std::move(media);
    entry.stream.status.parameters = std::move(parameters);
    for (RtspListener* listener : targets) {
      listener->Mount(path, entry.media->factory());
      entry.mounted_on.push_back(listener);
      entry.stream.status.listeners.push_back(listener->name());
    }
    entry.phase = Entry::Phase::kServing;
    listener_names = entry.stream.status.listeners;
  }
  common::Log(common::LogLevel::kInfo, "stream mounted",
              {{"stream", path},
               {"plugin", spec.plugin()},
               {"listeners", absl::StrJoin(listener_names, ",")}});
  Emit({StreamEvent::Type::kCreated, path, StreamState::kStarting, StreamState::kStarting, ""});
  return absl::OkStatus();
}

std::vector<RtspListener*> StreamManager::Targets(const config::v1::Stream& spec) const {
  std::vector<RtspListener*> targets;
  for (RtspListener* listener : listeners_) {
    bool wanted = spec.listeners().empty();
    for (const std::string& name : spec.listeners()) wanted |= name == listener->name();
    if (wanted) targets.push_back(listener);
  }
  return targets;
}

absl::StatusOr<std::unique_ptr<StreamMedia>> StreamManager::Build(
    const config::v1::Stream& spec, const std::vector<RtspListener*>& targets,
    ParameterList* parameters) const {
  const std::string& path = spec.path();
  for (const std::string& name : spec.listeners()) {
    bool found = false;
    for (RtspListener* listener : targets) found |= listener->name() == name;
    if (!found) {
      return absl::NotFoundError(absl::StrCat("stream ", path, ": no listener named '", name, "'"));
    }
  }
  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader_->Load(spec.plugin());
  if (!plugin.ok()) return Prefixed(path, plugin.status());
  std::map<std::string, std::string> raw(spec.parameters().begin(), spec.parameters().end());
  absl::StatusOr<ParameterList> validated = (*plugin)->ValidateParameters(path, raw);
  if (!validated.ok()) return validated.status();
  *parameters = *std::move(validated);
  // The builder runs when gst-rtsp-server asks for a media: once, through the
  // keeper (core/media/stream_media.h). Its error is kept so that the caller
  // learns the plugin's own message, not just "no media".
  std::shared_ptr<const Plugin> owner = *plugin;
  auto build_error = std::make_shared<absl::Status>();
  // Build and start the pipeline before mounting, so that readers never see
  // a stream whose plugin fails.
  absl::StatusOr<std::unique_ptr<StreamMedia>> media =
      StreamMedia::Create(path, [owner, path, raw, build_error] {
        absl::StatusOr<GstPtr<GstElement>> element = owner->CreateElement(path, raw);
        if (!element.ok()) *build_error = element.status();
        return element;
      });
  if (!media.ok()) return build_error->ok() ? media.status() : *build_error;
  // Before the factory is mounted, so that no reader finds it unprotected.
  if (auth_ != nullptr) {
    if (absl::Status status = auth_->Protect(spec, (*media)->factory()); !status.ok()) {
      return status;
    }
  }
  return media;
}

absl::Status StreamManager::Remove(absl::string_view path) {
  std::unique_ptr<StreamMedia> media;
  std::vector<RtspListener*> mounted_on;
  StreamState previous = StreamState::kStarting;
  bool removed_failed = false;
  {
    absl::MutexLock lock(&mutex_);
    auto it = streams_.find(path);
    if (it == streams_.end()) return NoSuchStream(path);
    Entry& entry = *it->second;
    if (entry.replacing) {
      return absl::FailedPreconditionError(absl::StrCat("stream ", path, ": still being replaced"));
    }
    if (entry.phase == Entry::Phase::kFailed) {
      // Nothing was mounted or built: the path is simply free again.
      streams_.erase(it);
      removed_failed = true;
    } else if (entry.phase != Entry::Phase::kServing) {
      return absl::FailedPreconditionError(absl::StrCat("stream ", path, ": ",
                                                        entry.phase == Entry::Phase::kBuilding
                                                            ? "still being created"
                                                            : "already being removed"));
    } else {
      // The last counters, for List() while the media goes away.
      entry.stream = Snapshot(entry);
      previous = entry.stream.state;
      entry.stream.state = StreamState::kStopping;
      entry.phase = Entry::Phase::kStopping;
      // No new reader finds the stream from here on.
      for (RtspListener* listener : entry.mounted_on) listener->Unmount(path);
      if (auth_ != nullptr) auth_->Release(path);
      mounted_on = entry.mounted_on;
      media = std::move(entry.media);
    }
  }
  if (removed_failed) {
    common::Log(common::LogLevel::kInfo, "stream removed",
                {{"stream", std::string(path)}, {"readers_closed", 0}});
    Emit({StreamEvent::Type::kRemoved, std::string(path), StreamState::kFailed,
          StreamState::kFailed, ""});
    return absl::OkStatus();
  }
  Emit({StreamEvent::Type::kStateChanged, std::string(path), previous, StreamState::kStopping,
        "removed"});
  // Readers hold the media through their sessions; closing their
  // connections ends those sessions, so the pipeline stops with the keeper.
  int closed = 0;
  for (RtspListener* listener : mounted_on) closed += listener->CloseReadersOf(media->media());
  media.reset();
  {
    absl::MutexLock lock(&mutex_);
    streams_.erase(streams_.find(path));
  }
  common::Log(common::LogLevel::kInfo, "stream removed",
              {{"stream", std::string(path)}, {"readers_closed", closed}});
  Emit({StreamEvent::Type::kRemoved, std::string(path), StreamState::kStopping,
        StreamState::kStopping, ""});
  return absl::OkStatus();
}

absl::Status StreamManager::Replace(const config::v1::Stream& spec) {
  const std::string& path = spec.path();
  // Keep the path reserved (the old stream serving) while the new media is
  // built: Remove() and another Replace() fail with FailedPrecondition.
  {
    absl::MutexLock lock(&mutex_);
    auto it = streams_.find(path);
    if (it == streams_.end()) return NoSuchStream(path);
    Entry& entry = *it->second;
    const bool replaceable =
        entry.phase == Entry::Phase::kServing || entry.phase == Entry::Phase::kFailed;
    if (!replaceable || entry.replacing) {
      return absl::FailedPreconditionError(
          absl::StrCat("stream ", path, ": ",
                       entry.phase == Entry::Phase::kBuilding ? "still being created"
                       : entry.replacing                      ? "still being replaced"
                                                              : "already being removed"));
    }
    entry.replacing = true;
  }
  std::vector<RtspListener*> targets = Targets(spec);
  ParameterList parameters;
  absl::StatusOr<std::unique_ptr<StreamMedia>> media = Build(spec, targets, &parameters);
  if (!media.ok()) {
    absl::MutexLock lock(&mutex_);
    streams_.at(path)->replacing = false;
    return media.status();
  }
  std::unique_ptr<StreamMedia> old_media;
  std::vector<RtspListener*> old_mounts;
  StreamState previous;
  {
    absl::MutexLock lock(&mutex_);
    Entry& entry = *streams_.at(path);
    previous =
        entry.phase == Entry::Phase::kFailed ? StreamState::kFailed : entry.health->report().state;
    // Mounting on a listener that already has the path replaces its factory
    // in one step, so a client there never sees the path missing.
    for (RtspListener* listener : entry.mounted_on) {
      if (std::find(targets.begin(), targets.end(), listener) == targets.end()) {
        listener->Unmount(path);
      }
    }
    old_mounts = std::move(entry.mounted_on);
    old_media = std::move(entry.media);
    entry.media = *std::move(media);
    entry.mounted_on.clear();
    entry.stream.spec = spec;
    entry.stream.state = StreamState::kStarting;
    entry.stream.status = StreamStatus{};
    entry.stream.status.parameters = std::move(parameters);
    for (RtspListener* listener : targets) {
      listener->Mount(path, entry.media->factory());
      entry.mounted_on.push_back(listener);
      entry.stream.status.listeners.push_back(listener->name());
    }
    entry.health.emplace(stall_timeout_);
    entry.phase = Entry::Phase::kServing;  // a failed stream now serves
    entry.replacing = false;
  }
  // As in Remove(): closing the readers' connections ends their sessions,
  // so the old pipeline stops with its keeper.
  int closed = 0;
  if (old_media != nullptr) {
    for (RtspListener* listener : old_mounts) {
      closed += listener->CloseReadersOf(old_media->media());
    }
  }
  old_media.reset();
  common::Log(common::LogLevel::kInfo, "stream replaced",
              {{"stream", path}, {"plugin", spec.plugin()}, {"readers_closed", closed}});
  Emit({StreamEvent::Type::kStateChanged, path, previous, StreamState::kStarting, "replaced"});
  return absl::OkStatus();
}

void StreamManager::RemoveAll() {
  std::vector<std::string> paths;
  {
    absl::MutexLock lock(&mutex_);
    for (const auto& [path, entry] : streams_) {
      if (entry->phase == Entry::Phase::kServing || entry->phase == Entry::Phase::kFailed) {
        paths.push_back(path);
      }
    }
  }
  // A stream removed concurrently in the meantime is simply gone already.
  for (const std::string& path : paths) Remove(path).IgnoreError();
}

Stream StreamManager::Snapshot(const Entry& entry) {
  Stream stream = entry.stream;
  if (entry.media != nullptr) {
    stream.status.readers = entry.media->readers();
    stream.status.bytes_produced = entry.media->bytes_produced();
    stream.status.health = entry.health->report();
    stream.state = entry.health->report().state;
  }
  return stream;
}

std::vector<Stream> StreamManager::List() const {
  absl::MutexLock lock(&mutex_);
  std::vector<Stream> result;
  for (const auto& [path, entry] : streams_) result.push_back(Snapshot(*entry));
  return result;
}

absl::StatusOr<Stream> StreamManager::Get(absl::string_view path) const {
  absl::MutexLock lock(&mutex_);
  auto it = streams_.find(path);
  if (it == streams_.end()) return NoSuchStream(path);
  return Snapshot(*it->second);
}

void StreamManager::OnPlay(PlayPhase phase, absl::string_view url_path,
                           GstRTSPContext* context) const {
  absl::MutexLock lock(&mutex_);
  // The mount whose path is the longest prefix of the URL path at a '/'.
  for (absl::string_view path = url_path; !path.empty();) {
    auto it = streams_.find(path);
    if (it != streams_.end()) {
      StreamMedia* media = it->second->media.get();
      if (media == nullptr) return;  // Building or stopping.
      switch (phase) {
        case PlayPhase::kActivating:
          media->OnReaderActivating();
          break;
        case PlayPhase::kPlaying:
          media->OnReaderPlaying(context);
          break;
        case PlayPhase::kAbandoned:
          media->OnReaderAbandoned();
          break;
      }
      return;
    }
    size_t slash = path.rfind('/');
    if (slash == absl::string_view::npos || slash == 0) return;
    path = path.substr(0, slash);
  }
}

std::vector<StreamLiveness> StreamManager::EvaluateLiveness() {
  std::vector<StreamLiveness> result;
  std::vector<StreamEvent> events;
  {
    absl::MutexLock lock(&mutex_);
    result.reserve(streams_.size());
    for (auto& [path, entry] : streams_) {
      if (entry->phase == Entry::Phase::kBuilding) {
        result.push_back({path, StreamState::kStarting});
        continue;
      }
      if (entry->phase == Entry::Phase::kFailed) {
        result.push_back({path, StreamState::kFailed});
        continue;
      }
      if (entry->phase == Entry::Phase::kStopping) {
        result.push_back({path, StreamState::kStopping});
        continue;
      }
      std::optional<StreamHealth::Transition> change =
          entry->health->Update(entry->media->ReadLiveness(), MonotonicNow());
      if (change.has_value()) {
        const StreamHealthReport& report = entry->health->report();
        common::LogLevel level = change->to == StreamState::kFailed    ? common::LogLevel::kError
                                 : change->to == StreamState::kStalled ? common::LogLevel::kWarning
                                                                       : common::LogLevel::kInfo;
        common::Log(level,
                    absl::StrCat("stream ", path, ": ", StreamStateName(change->from), " -> ",
                                 StreamStateName(change->to)),
                    {{"stream", path},
                     {"from", StreamStateName(change->from)},
                     {"to", StreamStateName(change->to)},
                     {"reason", change->reason},
                     {"frames", static_cast<int64_t>(report.frames_produced)},
                     {"stall_timeout_ms",
                      static_cast<int64_t>(absl::ToInt64Milliseconds(stall_timeout_))}});
        events.push_back(
            {StreamEvent::Type::kStateChanged, path, change->from, change->to, change->reason});
      }
      result.push_back({path, entry->health->report().state});
    }
  }
  for (const StreamEvent& event : events) Emit(event);
  return result;
}

absl::StatusOr<GstPtr<GstElement>> StreamManager::FindElement(absl::string_view path,
                                                              absl::string_view name) const {
  absl::MutexLock lock(&mutex_);
  auto it = streams_.find(path);
  if (it == streams_.end() || it->second->media == nullptr) return NoSuchStream(path);
  GstPtr<GstElement> top(gst_rtsp_media_get_element(it->second->media->media()));
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

absl::StatusOr<StreamMedia*> StreamManager::ServingMedia(absl::string_view path,
                                                         absl::string_view what) const {
  auto it = streams_.find(path);
  if (it == streams_.end()) return NoSuchStream(path);
  const Entry& entry = *it->second;
  if (entry.phase != Entry::Phase::kServing || entry.media == nullptr || entry.replacing) {
    return absl::FailedPreconditionError(
        absl::StrCat("stream ", path, ": ", what, ": not serving (",
                     entry.phase == Entry::Phase::kBuilding ? "still being created"
                     : entry.replacing                      ? "being replaced"
                     : entry.phase == Entry::Phase::kFailed ? "it failed to start"
                                                            : "being removed",
                     ")"));
  }
  return entry.media.get();
}

absl::Status StreamManager::StartFault(absl::string_view path, const StreamFaultSpec& spec) {
  if (spec.kind == StreamFaultKind::kEos) return EndStream(path);
  if (spec.kind == StreamFaultKind::kDisconnect) return DisconnectReaders(path).status();
  absl::Status status;
  {
    absl::MutexLock lock(&mutex_);
    absl::StatusOr<StreamMedia*> media = ServingMedia(path, StreamFaultKindName(spec.kind));
    if (!media.ok()) return media.status();
    // Start() only installs probes or sets a property: it does not block.
    status = (*media)->faults().Start(spec);
  }
  if (!status.ok()) return Prefixed(path, status);
  common::Log(common::LogLevel::kInfo, "stream fault started",
              {{"stream", std::string(path)}, {"fault", StreamFaultKindName(spec.kind)}});
  return absl::OkStatus();
}

void StreamManager::StopFault(absl::string_view path, StreamFaultKind kind) {
  std::unique_ptr<ActiveFault> fault;
  {
    absl::MutexLock lock(&mutex_);
    absl::StatusOr<StreamMedia*> media = ServingMedia(path, StreamFaultKindName(kind));
    if (!media.ok()) return;
    fault = (*media)->faults().Take(kind);
  }
  if (fault == nullptr) return;
  // Stopped outside the lock: a reorder may wait briefly for the packet it
  // holds, and the fault keeps what it acts on referenced.
  fault.reset();
  common::Log(common::LogLevel::kInfo, "stream fault stopped",
              {{"stream", std::string(path)}, {"fault", StreamFaultKindName(kind)}});
}

std::vector<StreamFaultKind> StreamManager::ActiveFaults(absl::string_view path) const {
  absl::MutexLock lock(&mutex_);
  absl::StatusOr<StreamMedia*> media = ServingMedia(path, "faults");
  if (!media.ok()) return {};
  return (*media)->faults().Active();
}

absl::Status StreamManager::EndStream(absl::string_view path) {
  // The media is referenced so that the event is sent outside the lock (it
  // takes the pipeline's state lock) even if the stream is removed meanwhile.
  GObjectPtr<GstRTSPMedia> media;
  {
    absl::MutexLock lock(&mutex_);
    absl::StatusOr<StreamMedia*> serving = ServingMedia(path, "eos");
    if (!serving.ok()) return serving.status();
    media.reset(GST_RTSP_MEDIA(g_object_ref((*serving)->media())));
  }
  absl::Status sent = SendEndOfStream(media.get());
  if (!sent.ok()) return Prefixed(path, sent);
  common::Log(common::LogLevel::kInfo, "stream fault: end of stream sent",
              {{"stream", std::string(path)}});
  return absl::OkStatus();
}

absl::StatusOr<int> StreamManager::DisconnectReaders(absl::string_view path) {
  GObjectPtr<GstRTSPMedia> media;
  std::vector<RtspListener*> mounted_on;
  {
    absl::MutexLock lock(&mutex_);
    absl::StatusOr<StreamMedia*> serving = ServingMedia(path, "disconnect");
    if (!serving.ok()) return serving.status();
    media.reset(GST_RTSP_MEDIA(g_object_ref((*serving)->media())));
    mounted_on = streams_.find(path)->second->mounted_on;
  }
  // As in Remove(): outside the lock, since closing a client runs its
  // "closed" handlers.
  int closed = 0;
  for (RtspListener* listener : mounted_on) closed += listener->CloseReadersOf(media.get());
  common::Log(common::LogLevel::kInfo, "stream fault: readers disconnected",
              {{"stream", std::string(path)}, {"readers_closed", closed}});
  return closed;
}

}  // namespace rtsptest::core
