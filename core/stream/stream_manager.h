// StreamManager: the one owner of stream lifecycle. Every stream is created,
// changes state and is removed here, whoever asks (the config at start-up,
// later the control services and persistence); nothing else writes a
// stream's state.
//
// Modelled on mediamtx's path manager: the manager owns each path's life,
// while the fan-out of one pipeline to many readers is a separate mechanism
// (core/media, StreamMedia).
//
// A path's life: Create() reserves it under the lock, then builds the
// pipeline outside the lock (up to seconds), then publishes the stream
// (mounted, "starting") or releases the reservation. Two creates of one path
// therefore build one pipeline: the second gets AlreadyExists at once.
// A stream from the config that cannot be built is kept as "failed" with
// its error (OnCreateFailure::kKeepFailed), so that it is reported like any
// other stream, not silently missing; one created through the control API
// is not kept (the caller gets the error). EvaluateLiveness() turns what the media measured
// (frames, bus errors, EOS) into starting / live / stalled / failed. Remove() marks it "stopping",
// unmounts it, cuts its readers off and releases the pipeline; then the path
// is free again.
#ifndef RTSPTEST_CORE_STREAM_STREAM_MANAGER_H_
#define RTSPTEST_CORE_STREAM_STREAM_MANAGER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/glib/gst_ptr.h"
#include "core/listener/rtsp_listener.h"
#include "core/media/stream_faults.h"
#include "core/media/stream_media.h"
#include "core/plugin_host/plugin_loader.h"
#include "core/rtsp_auth/stream_auth.h"
#include "core/stream/stream.h"
#include "core/stream/stream_liveness.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::core {

// What Create() does with the path when the stream cannot be built.
enum class OnCreateFailure {
  // Release it: the stream never existed (the control API: its caller gets
  // the error and may retry).
  kForget,
  // Keep the stream, in state failed with the error as its reason, until it
  // is removed or replaced (the config's streams at start-up: whoever lists
  // the streams or reads health sees it failed, with why).
  kKeepFailed,
};

class StreamManager {
 public:
  // `loader` and the listeners must outlive the manager. A stream with no
  // frame for longer than `stall_timeout` is stalled (stream_liveness.h).
  StreamManager(PluginLoader* loader, std::vector<RtspListener*> listeners,
                absl::Duration stall_timeout = kDefaultStallTimeout,
                StreamObserver observer = nullptr);
  // Removes every stream.
  ~StreamManager();

  StreamManager(const StreamManager&) = delete;
  StreamManager& operator=(const StreamManager&) = delete;

  // Replaces the observer (see StreamObserver); null for none.
  void SetObserver(StreamObserver observer) ABSL_LOCKS_EXCLUDED(observer_mutex_);
  // The RTSP authentication every stream registers with (permissions on
  // its factory before it is mounted, credentials released with it);
  // must outlive the manager. Call before the first Create().
  void SetAuth(StreamAuth* auth) { auth_ = auth; }

  // Creates, starts and mounts a stream. Codes: AlreadyExists (the path is
  // taken, or being created or removed), NotFound (unknown listener or
  // plugin), the plugin loader's codes, InvalidArgument (bad parameters or
  // the plugin could not build the pipeline), Unavailable (the pipeline did
  // not start). Messages start "stream <path>: ". A failure leaves every
  // other stream untouched. With kKeepFailed, a stream that could not be
  // built stays listed as failed (not mounted, no pipeline) and the same
  // error is returned; an AlreadyExists path is never kept.
  absl::Status Create(const config::v1::Stream& spec,
                      OnCreateFailure on_failure = OnCreateFailure::kForget)
      ABSL_LOCKS_EXCLUDED(mutex_);
  // NotFound if no stream has `path`; FailedPrecondition while it is being
  // created or removed. A failed stream is simply dropped. Readers of the stream are cut off (their
  // connections closed) and its pipeline released; the path is free again
  // when it returns.
  absl::Status Remove(absl::string_view path) ABSL_LOCKS_EXCLUDED(mutex_);
  // Replaces the serving stream at spec.path() with one built from `spec`,
  // atomically: the path stays reserved while the new media is built
  // outside the lock; then, under the lock, the new media is mounted in the
  // old one's place; the old stream's readers are cut off and its pipeline
  // released. If the build fails, the old stream serves on untouched and the
  // build's error is returned (the codes of Create()). A failed stream is
  // replaced the same way (it becomes a serving one, or stays failed as it
  // was when the build fails). NotFound if no stream
  // has the path; FailedPrecondition while it is being created, replaced or
  // removed.
  absl::Status Replace(const config::v1::Stream& spec) ABSL_LOCKS_EXCLUDED(mutex_);
  // Removes every stream.
  void RemoveAll() ABSL_LOCKS_EXCLUDED(mutex_);

  // The streams created and not yet removed, by path: serving ones, ones
  // still being built (state starting, reason "being created"), failed ones
  // kept by kKeepFailed (state failed, reason the error) and stopping ones.
  std::vector<Stream> List() const ABSL_LOCKS_EXCLUDED(mutex_);
  // NotFound if List() has no stream at `path`.
  absl::StatusOr<Stream> Get(absl::string_view path) const ABSL_LOCKS_EXCLUDED(mutex_);

  // A reader's PLAY of `url_path` (the request's path, possibly with a track
  // suffix) is about to activate its transports, or has (see PlayPhase); runs
  // on its client thread. The stream starts the reader's video at the next
  // key frame.
  void OnPlay(PlayPhase phase, absl::string_view url_path, GstRTSPContext* context) const
      ABSL_LOCKS_EXCLUDED(mutex_);

  // Re-evaluates every serving stream's liveness from what its media
  // measured, now, logs and reports (observer) each change of state once,
  // and returns every stream's state (starting for one being built, failed
  // for one kept failed). Call it periodically
  // (StreamLivenessChecker).
  std::vector<StreamLiveness> EvaluateLiveness() ABSL_LOCKS_EXCLUDED(mutex_);
  absl::Duration stall_timeout() const { return stall_timeout_; }

  // The element named `name` inside the stream's pipeline (e.g. a valve in
  // a `pipeline` plugin description), for fault injection in tests. NotFound
  // for an unknown stream or element.
  absl::StatusOr<GstPtr<GstElement>> FindElement(absl::string_view path,
                                                 absl::string_view name) const
      ABSL_LOCKS_EXCLUDED(mutex_);

  // Stream faults (core/media/stream_faults.h) on the serving stream at
  // `path`, for every reader of every listener. Codes of all four: NotFound
  // for an unknown path, FailedPrecondition while it is being created,
  // replaced or removed; messages start "stream <path>: ". The faults stop
  // with the stream's media (Remove, Replace); they are not part of its
  // spec. Any thread.
  //
  // Starts a lasting fault; eos and disconnect run their one shot here.
  // Also InvalidArgument (a bad parameter, named with its value) and
  // FailedPrecondition (the same kind already active; freeze, black or
  // bitrate_spike where the stream has no video encoder or no bitrate
  // property; black on a raw format it cannot paint).
  absl::Status StartFault(absl::string_view path, const StreamFaultSpec& spec)
      ABSL_LOCKS_EXCLUDED(mutex_);
  // Stops the fault of `kind`; a no-op if the stream or the fault is gone.
  void StopFault(absl::string_view path, StreamFaultKind kind) ABSL_LOCKS_EXCLUDED(mutex_);
  // The faults active on the stream now (empty if it is gone).
  std::vector<StreamFaultKind> ActiveFaults(absl::string_view path) const
      ABSL_LOCKS_EXCLUDED(mutex_);
  // Sends EOS through the stream's pipeline: the stream turns failed ("end
  // of stream") at its next liveness evaluation, as for a plugin's own EOS.
  absl::Status EndStream(absl::string_view path) ABSL_LOCKS_EXCLUDED(mutex_);
  // Closes the connection of every reader of the stream, on every listener;
  // returns how many were closed. The stream goes on serving.
  absl::StatusOr<int> DisconnectReaders(absl::string_view path) ABSL_LOCKS_EXCLUDED(mutex_);

 private:
  struct Entry {
    // kFailed: a stream kept by kKeepFailed; no media, never mounted.
    enum class Phase { kBuilding, kServing, kFailed, kStopping };
    Phase phase = Phase::kBuilding;
    Stream stream;
    std::vector<RtspListener*> mounted_on;
    // Set while serving; moved out when stopping.
    std::unique_ptr<StreamMedia> media;
    // Optional only so that Replace() can start it afresh (emplace).
    std::optional<StreamHealth> health;
    // A Replace() is building this path's new media; the old one serves.
    bool replacing = false;

    explicit Entry(absl::Duration stall_timeout) { health.emplace(stall_timeout); }
  };

  // The listeners `spec` names (all of them when it names none).
  std::vector<RtspListener*> Targets(const config::v1::Stream& spec) const;
  // Builds and starts the stream's media: the part of Create() that runs
  // outside the lock.
  absl::StatusOr<std::unique_ptr<StreamMedia>> Build(const config::v1::Stream& spec,
                                                     const std::vector<RtspListener*>& targets,
                                                     ParameterList* parameters) const;
  // The serving media at `path`, or NotFound / FailedPrecondition (the
  // codes of the fault methods), prefixed with `what` for the message.
  absl::StatusOr<StreamMedia*> ServingMedia(absl::string_view path, absl::string_view what) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // A snapshot of `entry` (live counters read now).
  static Stream Snapshot(const Entry& entry);
  void Emit(const StreamEvent& event) const ABSL_LOCKS_EXCLUDED(observer_mutex_);

  PluginLoader* const loader_;
  const std::vector<RtspListener*> listeners_;
  const absl::Duration stall_timeout_;
  StreamAuth* auth_ = nullptr;
  mutable absl::Mutex observer_mutex_;
  StreamObserver observer_ ABSL_GUARDED_BY(observer_mutex_);
  mutable absl::Mutex mutex_;
  // Every reserved path: building, serving or stopping.
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> streams_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_STREAM_STREAM_MANAGER_H_
