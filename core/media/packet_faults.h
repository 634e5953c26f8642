// Faults that act on what the payloaders send: a stall (at their sink pads,
// encoded frames) and dropped, late, reordered or rate-capped RTP packets
// (at their own src pads). Each takes the stream's tracks (fault_points.h)
// and acts on all of them.
//
// Buffer lists (a payloader sends a fragmented frame as one list) are one
// item to the jitter (one delay for the list) and are reordered inside;
// drop and bandwidth judge each packet of a list.
#ifndef RTSPTEST_CORE_MEDIA_PACKET_FAULTS_H_
#define RTSPTEST_CORE_MEDIA_PACKET_FAULTS_H_

#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "core/media/active_fault.h"
#include "core/media/fault_points.h"

namespace rtsptest::core {

// Drops every encoded frame before the payloaders: no RTP at all on any
// track (RTCP goes on), sessions stay open, and the stream's frame count
// stops, so its health turns "stalled" after stall_timeout. When stopped,
// asks each encoder for a key frame (upstream force-key-unit) and keeps
// dropping on each track until a frame that is not a delta unit passes, so
// decoders resume on a clean picture; those probes then remove themselves.
std::unique_ptr<ActiveFault> StartStall(const std::vector<FaultPoints::Track>& tracks);

// Drops each RTP packet with probability `percent` / 100.
std::unique_ptr<ActiveFault> StartDrop(const std::vector<FaultPoints::Track>& tracks,
                                       double percent);

// Holds each RTP item back until a random moment 0..`spread` after the time
// it would have left without the fault (its capture time plus the smallest
// lag seen), so delays do not add up: the stream stays real time, about
// spread/2 later on average. Order is kept, so an item also waits for the
// one before it, and the measured spread of delays is narrower than
// `spread` (p95-p5 of transit ~90 ms for 200 ms at 30 fps, 9 ms without).
std::unique_ptr<ActiveFault> StartJitter(const std::vector<FaultPoints::Track>& tracks,
                                         absl::Duration spread);

// Swaps adjacent RTP packets in pairs: inside each list, and a single
// packet that does not end a frame (no marker) with the one after it.
std::unique_ptr<ActiveFault> StartReorder(const std::vector<FaultPoints::Track>& tracks);

// Caps the RTP bytes of all tracks together at `kbps` with a token bucket
// (burst: 50 ms of the rate, at least 1500 bytes). A packet waits for its
// tokens if it would wait at most 200 ms (the queue of a slow link), and is
// dropped otherwise.
std::unique_ptr<ActiveFault> StartBandwidth(const std::vector<FaultPoints::Track>& tracks,
                                            int kbps);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_PACKET_FAULTS_H_
