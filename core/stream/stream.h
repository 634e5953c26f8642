// Stream: one stream as the StreamManager reports it: what was asked for
// (spec), where it is in its life (state), and what it does now (status).
// A value: a snapshot taken under the manager's lock.
#ifndef RTSPTEST_CORE_STREAM_STREAM_H_
#define RTSPTEST_CORE_STREAM_STREAM_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/plugin_host/parameter_validator.h"
#include "core/stream/stream_liveness.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::core {

struct StreamStatus {
  // Names of the listeners the stream is mounted on.
  std::vector<std::string> listeners;
  // Every schema parameter with defaults filled in, in schema order.
  ParameterList parameters;
  // Live counters, as of the snapshot.
  int readers = 0;
  uint64_t bytes_produced = 0;
  // Liveness as of the last EvaluateLiveness() (starting before the first).
  StreamHealthReport health;
};

struct Stream {
  config::v1::Stream spec;
  // health.state while the stream serves; kStopping while it is removed.
  StreamState state = StreamState::kStarting;
  StreamStatus status;

  const std::string& path() const { return spec.path(); }
};

// A stream's state after an EvaluateLiveness().
struct StreamLiveness {
  std::string path;
  StreamState state = StreamState::kStarting;
};

// What the manager tells its observer: a stream was created, could not be
// created, changed state, or is gone.
struct StreamEvent {
  enum class Type { kCreated, kCreateFailed, kStateChanged, kRemoved };
  Type type = Type::kCreated;
  std::string path;
  // kStateChanged: from `previous` to `state`. kCreated: starting.
  // kRemoved: stopping (its last state). kCreateFailed: failed.
  StreamState previous = StreamState::kStarting;
  StreamState state = StreamState::kStarting;
  // Why: the liveness reason, or the error of a failed create.
  std::string reason;
};
// "created", "create_failed", "state_changed", "removed".
const char* StreamEventTypeName(StreamEvent::Type type);

// Called on the thread that made the change (a caller of Create or Remove,
// or the liveness checker), without the manager's lock: it may read the
// manager. Events of one call arrive in order; events of concurrent calls
// may interleave.
using StreamObserver = std::function<void(const StreamEvent&)>;

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_STREAM_STREAM_H_
