// PadProbe and Interruptible: the two tools every stream fault is made of.
#ifndef RTSPTEST_CORE_MEDIA_PAD_PROBE_H_
#define RTSPTEST_CORE_MEDIA_PAD_PROBE_H_

#include <gst/gst.h>

#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace rtsptest::core {

// A pad probe that lives as long as this object. The function runs on the
// pad's streaming thread; it is owned by GStreamer's hook, which frees it
// only after a call in flight has returned, so removing the probe never
// waits and never frees what a running call uses. Capture shared state by
// shared_ptr.
class PadProbe {
 public:
  using Fn = std::function<GstPadProbeReturn(GstPad*, GstPadProbeInfo*)>;
  // Adds the probe on `pad` (referenced until removal).
  PadProbe(GstPad* pad, GstPadProbeType type, Fn fn);
  // Removes the probe unless Release()d.
  ~PadProbe();

  PadProbe(const PadProbe&) = delete;
  PadProbe& operator=(const PadProbe&) = delete;

  // Leaves the probe on the pad: from now on only the function removes it
  // (by returning GST_PAD_PROBE_REMOVE), or the pad's end.
  void Release() { released_ = true; }

 private:
  GstPad* pad_;  // owned reference
  gulong id_;
  bool released_ = false;
};

// A sleep of a streaming thread that Cancel() cuts short: a fault holding a
// packet back must not hold a stream that is being stopped or removed.
class Interruptible {
 public:
  // Sleeps until `until`; false at once (or as soon as) it is cancelled.
  bool SleepUntil(absl::Time until) ABSL_LOCKS_EXCLUDED(mu_);
  void Cancel() ABSL_LOCKS_EXCLUDED(mu_);
  bool cancelled() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// The RTP packets of a probe's data: a buffer, or each buffer of a list.
// Calls `keep` on each in order; drops those it returns false for. Returns
// what the probe should return (DROP when nothing is left).
GstPadProbeReturn FilterPackets(GstPadProbeInfo* info, const std::function<bool(GstBuffer*)>& keep);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_PAD_PROBE_H_
