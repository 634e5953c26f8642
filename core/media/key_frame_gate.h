// KeyFrameGate: makes a reader who joins a running shared stream start on a
// decodable picture, so that its first video payload is a key frame (with its
// parameter sets), never the tail of a predicted frame.
//
// gst-rtsp-server 1.22 fans one media out to every reader and has no
// per-reader start point: a PLAY activates the reader's transport at once,
// wherever the encoder is in its GOP. The gate, one per video track:
//   1. while the reader's PLAY activates its transport (its client thread),
//      stops the track's packets and drains the send paths (BeginJoin), so
//      that the reader can get nothing yet; right after, takes the transport
//      back out of the track (Hold) and asks the encoder for a key frame,
//      unless one is already on its way;
//   2. on the streaming thread, at the first RTP packet of the next key frame
//      (a parameter set, an IDR/IRAP, or a JPEG frame's first fragment), waits
//      until every earlier packet has left the server's send paths, then has
//      each held transport put back on its own client's thread, where every
//      other change to that reader's session happens, so a reader that left
//      meanwhile is never put back; then lets the key frame through.
// Both waits are bounded; a reader not admitted at one key frame waits for
// the next (and asks again for one).
#ifndef RTSPTEST_CORE_MEDIA_KEY_FRAME_GATE_H_
#define RTSPTEST_CORE_MEDIA_KEY_FRAME_GATE_H_

#include <gst/rtsp-server/rtsp-server.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/media/rtp_progress.h"

namespace rtsptest::core {

// Where a decoder can start, by RTP payload format.
enum class EntryPointFormat { kH264, kH265, kJpeg };

// The format whose entry points gate a track with this RTP encoding name
// ("H264", "H265", "JPEG"); false for formats that need no gate (audio).
bool EntryPointFormatFor(const std::string& encoding_name, EntryPointFormat* format);

// What an RTP payload of `format` is to a decoder that has nothing yet.
enum class EntryPointRole {
  // Starts a picture a decoder can begin at: H.264 SPS or IDR (single,
  // STAP-A, or first FU-A fragment), H.265 VPS/SPS or IRAP (single, AP, or
  // first FU fragment), a JPEG frame's offset 0.
  kEntry,
  // May precede an entry point within its access unit without harm: an
  // access unit delimiter or SEI (H.264, H.265).
  kPrefix,
  // Anything else: a predicted picture, a fragment, a lone PPS.
  kOther,
};
EntryPointRole RoleOf(EntryPointFormat format, const uint8_t* payload, size_t size);
inline bool StartsEntryPoint(EntryPointFormat format, const uint8_t* payload, size_t size) {
  return RoleOf(format, payload, size) == EntryPointRole::kEntry;
}

class KeyFrameGate {
 public:
  // Gates track `stream` (borrowed; a track lives as long as its media) of a
  // media whose pipeline is `pipeline` (borrowed, same lifetime). Install
  // the gate before the media plays: it counts the track's RTP items from the
  // first one. The track must have a source pad (every payloader does).
  KeyFrameGate(GstRTSPStream* stream, GstElement* pipeline, EntryPointFormat format);
  // Removes the probe. Readers still held stay out (their stream is going
  // away); a put-back already queued on a client thread is dropped.
  ~KeyFrameGate();

  KeyFrameGate(const KeyFrameGate&) = delete;
  KeyFrameGate& operator=(const KeyFrameGate&) = delete;

  // A reader's PLAY is about to activate its transport on this track (its
  // client thread, gst-rtsp-server's "pre-play-request"): stops new packets
  // at the payloader until Hold, and waits (bounded) until the packets
  // already past it have left the send paths, so that activation meets an
  // empty pipe and the reader gets nothing before it is held.
  void BeginJoin();
  // The PLAY has activated `context->sessmedia`'s transport on this track:
  // take it out until the next entry point, and let packets flow again. Must
  // run on the reader's client thread (gst-rtsp-server's "play-request").
  void Hold(GstRTSPContext* context);
  // The PLAY failed after BeginJoin (it was answered with an error and
  // activates nothing): let packets flow again.
  void AbandonJoin();

  // Where the anchor transport records each RTP item of this track it is
  // handed: once it has the last item that went past the gate, nothing
  // older is left on the TCP send path.
  std::shared_ptr<RtpProgress> anchor_progress() const;

  GstRTSPStream* stream() const;

  // The gate's state, shared with its probe and with put-backs queued on
  // client threads, both of which may outlive the gate. Internal.
  struct State;

 private:
  void HoldTransport(GstRTSPContext* context);
  // One PLAY between BeginJoin and its end is over.
  void EndJoin();

  std::shared_ptr<State> state_;
  gulong probe_id_ = 0;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_MEDIA_KEY_FRAME_GATE_H_
