// StreamLivenessChecker: re-evaluates every stream's liveness on a timer of
// its own and hands the states to a callback (App publishes them as the
// "stream:<path>" health names).
//
// Its own timer, not the listener probe rounds: probe_interval defaults to
// 2 s, while a frozen stream must turn NOT_SERVING within stall_timeout plus
// a fraction of a second. An evaluation reads a few atomics per track, so a
// short interval costs nothing measurable.
#ifndef RTSPTEST_CORE_STREAM_STREAM_LIVENESS_CHECKER_H_
#define RTSPTEST_CORE_STREAM_STREAM_LIVENESS_CHECKER_H_

#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/stream/stream_manager.h"

namespace rtsptest::core {

class StreamLivenessChecker {
 public:
  // Called on the checker's thread after each evaluation, with every
  // stream's state.
  using Callback = std::function<void(const std::vector<StreamLiveness>&)>;

  // The interval for a stall timeout: a quarter of it, at most 250 ms, so
  // that a stall shows within stall_timeout + 250 ms.
  static absl::Duration IntervalFor(absl::Duration stall_timeout);

  // `streams` must outlive the checker.
  StreamLivenessChecker(StreamManager* streams, absl::Duration interval, Callback on_evaluated);
  ~StreamLivenessChecker();  // Stop()s.

  StreamLivenessChecker(const StreamLivenessChecker&) = delete;
  StreamLivenessChecker& operator=(const StreamLivenessChecker&) = delete;

  // Starts the thread; the first evaluation runs at once. Idempotent.
  void Start();
  // Joins the thread. Idempotent; no callback runs after it returns.
  void Stop();

 private:
  void Loop();

  StreamManager* const streams_;
  const absl::Duration interval_;
  const Callback on_evaluated_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_STREAM_STREAM_LIVENESS_CHECKER_H_
