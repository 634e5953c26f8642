// FaultManager: the faults a user injected, with their ids, start times and
// durations, whatever they act on.
//
// The manager does the bookkeeping every fault shares: it checks the target
// and the duration, gives the fault an id ("f-1", "f-2", ...), refuses a
// second fault of one kind on one target, clears faults when their duration
// ends (on a timer thread of its own), and publishes "fault" events. What a
// fault does is its handler's job: one FaultHandler per kind and target
// (stream faults on the shared media, RTSP faults and listener faults on the
// listeners), registered before the first Inject().
#ifndef RTSPTEST_CORE_FAULTS_FAULT_MANAGER_H_
#define RTSPTEST_CORE_FAULTS_FAULT_MANAGER_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/events/event_log.h"
#include "rtsptest/control/v1/control.pb.h"

namespace rtsptest::core {

using FaultSpec = control::v1::FaultSpec;

// What a fault acts on: FaultSpec.stream or FaultSpec.listener.
enum class FaultTarget { kStream, kListener };

// Starts and stops the faults of the kinds it is registered for.
class FaultHandler {
 public:
  virtual ~FaultHandler() = default;
  // Checks the kind's parameters and starts the fault (a one-shot kind acts
  // and is done). InvalidArgument naming the bad field and value, NotFound
  // for an unknown stream or listener, FailedPrecondition where the target's
  // state forbids it. Called without the manager's lock.
  virtual absl::Status Start(const std::string& id, const FaultSpec& spec) = 0;
  // Ends the fault `id` that Start() began. Must tolerate a target that is
  // gone. Called without the manager's lock.
  virtual void Stop(const std::string& id, const FaultSpec& spec) = 0;
};

class FaultManager {
 public:
  // `events` must outlive the manager.
  explicit FaultManager(EventLog* events);
  // Shutdown()s.
  ~FaultManager();

  // Stops the timer thread: no fault expires any more. Active faults are
  // left to their handlers' owners (the server is going away with them).
  // Call before the server stops. Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mutex_);

  FaultManager(const FaultManager&) = delete;
  FaultManager& operator=(const FaultManager&) = delete;

  // Makes `handler` the one for `kind` on `target`. A one-shot kind acts in
  // Start() and is never kept (eos, disconnect). `handler` must outlive the
  // manager. Call before the first Inject().
  void Register(FaultTarget target, const std::string& kind, FaultHandler* handler,
                bool one_shot = false);

  // Starts a fault. InvalidArgument for an unknown kind, a missing or
  // doubled target, a negative duration; FailedPrecondition when the target
  // already has a fault of this kind; the handler's codes.
  absl::StatusOr<control::v1::Fault> Inject(const FaultSpec& spec) ABSL_LOCKS_EXCLUDED(mutex_);

  // Clears the active faults that match every field set in `request` (none
  // set: all), and returns them. NotFound when an id names no active fault.
  absl::StatusOr<std::vector<control::v1::Fault>> Clear(
      const control::v1::ClearFaultsRequest& request) ABSL_LOCKS_EXCLUDED(mutex_);

  // Active faults, in the order they started; only `stream`'s when set.
  std::vector<control::v1::Fault> List(absl::string_view stream = "") const
      ABSL_LOCKS_EXCLUDED(mutex_);

  // The stream at `path` went away (removed or replaced, per `reason`): its
  // faults end with it and are reported cleared for that reason.
  void OnStreamGone(absl::string_view path, absl::string_view reason) ABSL_LOCKS_EXCLUDED(mutex_);

 private:
  struct Handler {
    FaultHandler* handler = nullptr;
    bool one_shot = false;
  };
  struct Active {
    control::v1::Fault fault;
    FaultHandler* handler = nullptr;
    absl::Time expires = absl::InfiniteFuture();
    std::string key;  // in taken_
  };

  // Stops each fault's handler and publishes "cleared" with `reason`.
  void End(std::vector<Active> ended, absl::string_view reason);
  void Publish(const control::v1::Fault& fault, const std::string& type,
               absl::string_view reason) const;
  void ExpiryLoop() ABSL_LOCKS_EXCLUDED(mutex_);

  EventLog* const events_;
  std::map<std::pair<FaultTarget, std::string>, Handler> handlers_;

  mutable absl::Mutex mutex_;
  uint64_t next_id_ ABSL_GUARDED_BY(mutex_) = 1;
  // By id number, so in the order they started.
  std::map<uint64_t, Active> active_ ABSL_GUARDED_BY(mutex_);
  // "kind@target" of every fault active or being started: one of each.
  std::set<std::string> taken_ ABSL_GUARDED_BY(mutex_);
  // One more for every fault kept, so that the timer sees a new expiry.
  uint64_t generation_ ABSL_GUARDED_BY(mutex_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread expiry_thread_;
};

// "stream /cam1" or "listener rtsp-8554": the fault's target, for messages.
std::string FaultTargetName(const FaultSpec& spec);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_FAULTS_FAULT_MANAGER_H_
