// RTP counts per reader: how many RTP packets and bytes gst-rtsp-server has
// handed to one GstRTSPStreamTransport (one reader of one track).
//
// TCP (interleaved): gst-rtsp-server sends through the transport's send
// callbacks, which the client installs at SETUP. CountTcpTransport() puts a
// counting wrapper in front of them; each transport gets its own counters
// (relaxed atomics, written only by the stream's send thread), so readers do
// not contend on anything.
// UDP (unicast and multicast): the stream's multiudpsink keeps per-destination
// counters already; ReadTransportCounts() asks it ("get-stats").
//
// The same wrapper hands a TCP reader over to its track's fan-out
// (fan_out.h) once gst-rtsp-server has sent it its first RTP item: from then
// on the fan-out writes the reader's RTP and RTCP, and the transport is
// taken out of the stream's list (on its client's thread), so that
// gst-rtsp-server's send loop no longer does work for it. It is put back
// before a PLAY, PAUSE or TEARDOWN of the reader, so that gst-rtsp-server
// finds it where it left it. A connection that closes without a TEARDOWN
// leaves it out: the media then counts one active transport too many
// (rtsp-media.c, n_active), which changes nothing while the stream's anchor
// (core/media/shared_media_keeper.h) keeps the media active for its life.
#ifndef RTSPTEST_CORE_LISTENER_TRANSPORT_COUNTER_H_
#define RTSPTEST_CORE_LISTENER_TRANSPORT_COUNTER_H_

#include <gst/rtsp-server/rtsp-server.h>

#include <cstdint>
#include <memory>

namespace rtsptest::core {

struct RtpCounts {
  uint64_t bytes = 0;
  uint64_t packets = 0;
};

class SendQueue;

// Wraps the TCP send callbacks that `client` installed on `transport` during
// its SETUP, so that every RTP buffer it accepts is counted, and, when the
// stream has a fan-out and `queue` (the connection's batched output) is not
// null, handed over to the fan-out after the first. Call on the client's
// thread from its "setup-request" signal, before the transport becomes
// active. Returns false (and counts nothing) when the transport is not TCP
// or its callbacks cannot be wrapped safely (see the .cc).
bool CountTcpTransport(GstRTSPStreamTransport* transport, GstRTSPClient* client,
                       std::shared_ptr<SendQueue> queue);

// A PLAY of the reader of `transport` is about to run: puts the transport
// back in its stream's list if the fan-out had taken it out. On the
// client's thread ("pre-play-request").
void RelistTransport(GstRTSPStreamTransport* transport);

// Gives `transport`'s RTP back to gst-rtsp-server for good (a PAUSE or a
// TEARDOWN: the fan-out cannot know when gst-rtsp-server stops sending to
// it), and puts it back in its stream's list. On the client's thread.
void LeaveFanOut(GstRTSPStreamTransport* transport);

// RTP sent so far to the reader of `transport`: the wrapper's counts for TCP,
// the multiudpsink's for UDP. Zero when unknown.
RtpCounts ReadTransportCounts(GstRTSPStreamTransport* transport);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_LISTENER_TRANSPORT_COUNTER_H_
