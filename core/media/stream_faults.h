// StreamFaults: faults applied to a stream's one running shared media, for
// every plugin and with no plugin code: a frozen or black picture, stalled,
// dropped, late, reordered or rate-capped RTP, a bitrate spike, an end of
// stream. Each active fault is a small object (encoder_faults.h,
// packet_faults.h) that installs its pad probes when it starts and removes
// them when it stops, so a stream with no fault pays nothing per buffer.
//
// Where the faults act (fault_points.h):
//   - freeze, black: the raw-video sink pad of the bin's video encoder (the
//     element whose factory klass has "Encoder/Video", or "Encoder/Image"
//     for jpegenc): every reader decodes the same frozen or black pictures,
//     and packets keep flowing;
//   - stall: each payloader's sink pad (encoded frames, before RTP);
//   - drop, jitter, reorder, bandwidth: each payloader's own src pad (RTP).
// All are upstream of the track pads (the media bin's ghost pads) where
// CountingTap counts frames and bytes and KeyFrameGate counts RTP items, so
// those see only what is really sent: a stalled stream turns "stalled" in
// health after stall_timeout, dropped packets are not counted as produced,
// and the gates' drain counts stay exact.
//
// Zero cost when idle: every probe goes when its fault stops, except the
// stall's, which stay until each track has passed a key frame (then remove
// themselves), so that decoders resume on a clean picture.
//
// Threading: Start() and Stop() may be called from any thread,
// concurrently with readers joining and leaving; the probes run on the
// pipeline's streaming threads. Destroying StreamFaults (the stream goes
// away) stops every fault first.
#ifndef RTSPTEST_CORE_MEDIA_STREAM_FAULTS_H_
#define RTSPTEST_CORE_MEDIA_STREAM_FAULTS_H_

#include <gst/rtsp-server/rtsp-server.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/media/active_fault.h"
#include "core/media/fault_points.h"

namespace rtsptest::core {

enum class StreamFaultKind {
  kFreeze,        // the picture stops changing
  kBlack,         // every picture is black
  kStall,         // no RTP at all; on clear, resume at a key frame
  kDrop,          // `percent` of RTP packets dropped at random
  kJitter,        // each RTP packet held back by a random 0..`spread`
  kReorder,       // adjacent RTP packets swapped in pairs
  kBandwidth,     // RTP output capped at `kbps` (token bucket)
  kBitrateSpike,  // the encoder's bitrate multiplied by `factor`
  kEos,           // one shot: the stream ends
  kDisconnect,    // one shot: every session of the stream is closed
};

// "freeze", "black", "stall", "drop", "jitter", "reorder", "bandwidth",
// "bitrate_spike", "eos", "disconnect".
const char* StreamFaultKindName(StreamFaultKind kind);

// A fault and its parameters; only the kind's own parameter is read.
struct StreamFaultSpec {
  StreamFaultKind kind = StreamFaultKind::kFreeze;
  double percent = 0;                            // drop: (0, 100]
  absl::Duration spread = absl::ZeroDuration();  // jitter: (0, 10 s]
  int kbps = 0;                                  // bandwidth: [8, 10000000]
  double factor = 0;                             // bitrate_spike: (1, 100]
};

// OK, or InvalidArgument naming the parameter and its value, e.g.
// "drop: percent 150 is out of range (0, 100]".
absl::Status ValidateStreamFaultSpec(const StreamFaultSpec& spec);

// Sends EOS into `media`'s sources (borrowed for the call): the pipeline
// ends as if the plugin had ended, and MediaLiveness reports "end of
// stream". Internal if the sources refused it.
absl::Status SendEndOfStream(GstRTSPMedia* media);

class StreamFaults {
 public:
  // `media` (borrowed) is prepared and playing and outlives this object.
  explicit StreamFaults(GstRTSPMedia* media);
  // Stops every active fault.
  ~StreamFaults();

  StreamFaults(const StreamFaults&) = delete;
  StreamFaults& operator=(const StreamFaults&) = delete;

  // Starts a lasting fault (every kind but kEos and kDisconnect). Codes:
  // InvalidArgument (bad parameter, or a one-shot kind), FailedPrecondition
  // (the same kind is already active; freeze/black/bitrate_spike on a stream
  // with no video encoder, or whose encoder has no bitrate property, or
  // black on a raw format it cannot paint).
  absl::Status Start(const StreamFaultSpec& spec) ABSL_LOCKS_EXCLUDED(mu_);
  // Stops the fault of `kind`; no-op if it is not active.
  void Stop(StreamFaultKind kind) ABSL_LOCKS_EXCLUDED(mu_) { Take(kind).reset(); }
  // Removes the fault of `kind` from the active ones and hands it over (null
  // if it is not active): destroying it stops it, wherever the caller likes
  // (a reorder's stop may wait up to 100 ms for the packet it holds). It
  // holds references to what it acts on, so it may outlive this object.
  std::unique_ptr<ActiveFault> Take(StreamFaultKind kind) ABSL_LOCKS_EXCLUDED(mu_);
  // Stops every fault.
  void StopAll() ABSL_LOCKS_EXCLUDED(mu_);
  // The kinds active now, in enum order.
  std::vector<StreamFaultKind> Active() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::StatusOr<std::unique_ptr<ActiveFault>> Make(const StreamFaultSpec& spec) const;

  const FaultPoints points_;
  mutable absl::Mutex mu_;
  std::map<StreamFaultKind, std::unique_ptr<ActiveFault>> active_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_STREAM_FAULTS_H_
