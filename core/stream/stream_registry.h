// StreamRegistry: the streams the server serves, and their mounts.
//
// Adding a stream loads its plugin, validates its parameters, builds its one
// shared pipeline (SharedMediaKeeper) and mounts it on its listeners. Any
// failure leaves the registry and the other streams untouched, so a bad
// stream in a config or an RPC never takes the server down.
#ifndef RTSPTEST_SERVER_REGISTRY_STREAM_REGISTRY_H_
#define RTSPTEST_SERVER_REGISTRY_STREAM_REGISTRY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "rtsptest/config/v1/config.pb.h"
#include "core/listener/rtsp_listener.h"
#include "core/media/stream_media_factory.h"
#include "core/plugin_host/plugin_loader.h"
#include "core/stream/stream_liveness.h"

namespace rtsptest::server {

// What a caller may know about a mounted stream.
struct StreamInfo {
  config::v1::Stream config;
  // Every schema parameter with defaults filled in, in schema order.
  ParameterList parameters;
  // Names of the listeners the stream is mounted on.
  std::vector<std::string> listeners;
  // Live counters, as of the List() call.
  int readers = 0;
  uint64_t bytes_produced = 0;
  // Liveness as of the last EvaluateLiveness() (starting before the first).
  StreamHealthReport health;
};

// A stream's state after an EvaluateLiveness().
struct StreamLiveness {
  std::string path;
  StreamState state = StreamState::kStarting;
};

class StreamRegistry {
 public:
  // `loader` and the listeners must outlive the registry. A stream with no
  // frame for longer than `stall_timeout` is stalled (stream_liveness.h).
  StreamRegistry(PluginLoader* loader, std::vector<RtspListener*> listeners,
                 absl::Duration stall_timeout = kDefaultStallTimeout);
  // Unmounts every stream and releases its pipeline.
  ~StreamRegistry();

  StreamRegistry(const StreamRegistry&) = delete;
  StreamRegistry& operator=(const StreamRegistry&) = delete;

  // Codes: AlreadyExists (path taken), NotFound (unknown listener or
  // plugin), the plugin loader's codes, InvalidArgument (bad parameters or
  // the plugin could not build the pipeline). Messages start "stream <path>: ".
  absl::Status Add(const config::v1::Stream& stream) ABSL_LOCKS_EXCLUDED(mutex_);
  // NotFound if no stream has `path`. Readers of the stream are cut off.
  absl::Status Remove(absl::string_view path) ABSL_LOCKS_EXCLUDED(mutex_);
  std::vector<StreamInfo> List() const ABSL_LOCKS_EXCLUDED(mutex_);
  // A reader's PLAY of `url_path` (the request's path, possibly with a track
  // suffix) is about to activate its transports, or has (see PlayPhase); runs
  // on its client thread. The stream starts the reader's video at the next
  // key frame.
  void OnPlay(PlayPhase phase, absl::string_view url_path, GstRTSPContext* context) const
      ABSL_LOCKS_EXCLUDED(mutex_);
  // Unmounts and releases every stream.
  void RemoveAll() ABSL_LOCKS_EXCLUDED(mutex_);

  // Re-evaluates every stream's liveness from what its media measured, now,
  // logs each change of state once, and returns every stream's state. The
  // registry is the one owner of stream states: nothing else changes them.
  // Call it periodically (StreamLivenessChecker).
  std::vector<StreamLiveness> EvaluateLiveness() ABSL_LOCKS_EXCLUDED(mutex_);
  absl::Duration stall_timeout() const { return stall_timeout_; }

  // The element named `name` inside the stream's pipeline (e.g. a valve in
  // a `pipeline` plugin description), for fault injection in tests. NotFound
  // for an unknown stream or element.
  absl::StatusOr<GstPtr<GstElement>> FindElement(absl::string_view path, absl::string_view name) const
      ABSL_LOCKS_EXCLUDED(mutex_);

 private:
  struct Entry {
    StreamInfo info;
    GObjectPtr<GstRTSPMediaFactory> factory;
    std::unique_ptr<SharedMediaKeeper> keeper;
    std::unique_ptr<StreamHealth> health;
  };
  void Unmount(const Entry& entry);

  PluginLoader* const loader_;
  const std::vector<RtspListener*> listeners_;
  const absl::Duration stall_timeout_;
  mutable absl::Mutex mutex_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> streams_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace rtsptest::server

#endif  // RTSPTEST_SERVER_REGISTRY_STREAM_REGISTRY_H_
