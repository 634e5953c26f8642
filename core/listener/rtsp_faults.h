// RtspFaults: the RTSP faults set on one listener's streams (answer a method
// with an error status, or answer it late), looked up per request.
#ifndef RTSPTEST_CORE_LISTENER_RTSP_FAULTS_H_
#define RTSPTEST_CORE_LISTENER_RTSP_FAULTS_H_

#include <gst/rtsp/gstrtspdefs.h>

#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace rtsptest::core {

struct RtspFault {
  enum class Kind { kError, kDelay };
  std::string path;  // the stream's mount path, e.g. "/cam"
  // A subset of GST_RTSP_DESCRIBE, GST_RTSP_SETUP, GST_RTSP_PLAY; empty means
  // all three.
  std::set<GstRTSPMethod> methods;
  Kind kind = Kind::kError;
  int status_code = 503;                        // kError: 300..599
  absl::Duration delay = absl::ZeroDuration();  // kDelay: > 0
};

// What a request meets: an error status to answer with, or a delay before
// it is handled (at most one of them; an error wins).
struct RtspFaultAction {
  int status_code = 0;                          // 0: no error
  absl::Duration delay = absl::ZeroDuration();  // the longest matching delay
};

// Thread-safe. Lookups take a mutex, once per DESCRIBE/SETUP/PLAY request
// while any fault is set, and not at all otherwise.
class RtspFaults {
 public:
  // Adds or replaces the fault `fault_id`. InvalidArgument for a path not
  // starting with '/', a method other than DESCRIBE/SETUP/PLAY, a status
  // outside 300..599 or a delay that is not positive.
  absl::Status Set(const std::string& fault_id, RtspFault fault) ABSL_LOCKS_EXCLUDED(mutex_);
  // Removes `fault_id` (no-op when unknown); the others stay.
  void Clear(const std::string& fault_id) ABSL_LOCKS_EXCLUDED(mutex_);

  // Whether any kDelay fault is set.
  bool HasDelay() const ABSL_LOCKS_EXCLUDED(mutex_);

  // What a `method` request on the stream mounted at `path` meets now.
  RtspFaultAction Lookup(absl::string_view path, GstRTSPMethod method) const
      ABSL_LOCKS_EXCLUDED(mutex_);

 private:
  mutable absl::Mutex mutex_;
  std::map<std::string, RtspFault> faults_ ABSL_GUARDED_BY(mutex_);
  std::atomic<bool> empty_{true};
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_LISTENER_RTSP_FAULTS_H_
