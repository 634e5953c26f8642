// Test support for the testpattern plugin's video track as a network client
// sees it: runs the plugin's bin, records every RTP packet pay0 sends, and
// takes H.264 (RFC 6184) and H.265 (RFC 7798) payloads apart into frames and
// NAL units, so that tests can state what must be on the wire.
#ifndef RTSPTEST_TESTS_PLUGINS_TESTPATTERN_TEST_UTIL_H_
#define RTSPTEST_TESTS_PLUGINS_TESTPATTERN_TEST_UTIL_H_

#include <gst/gst.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rtsptest {
namespace testing {

// One RTP packet from pay0 (RFC 3550), header fields decoded.
struct RtpPacket {
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  bool marker = false;
  std::vector<uint8_t> payload;  // Without header, CSRCs, extension, padding.
};

struct CaptureOptions {
  // Frames the plugin's source produces before it ends the stream (the
  // videotestsrc named "source" gets num-buffers).
  int frames = 30;
  // false: the source runs as fast as the CPU allows instead of in real time.
  // Encoders and payloaders only see timestamps, so what they send is the
  // same; a test of 10 s of media then takes less than 10 s.
  bool live = false;
  // videotestsrc's timestamp-offset: the PTS of the first frame. A live
  // source starts at whatever running time the pipeline has reached.
  GstClockTime first_pts = 0;
  // After this many packets with the marker bit (complete frames) reached
  // the sink, send an upstream force-key-unit event (all-headers) from pay0's
  // src pad, as the server does when a reader joins. -1: never.
  int force_key_unit_after_frames = -1;
  // The run fails if EOS has not arrived by then.
  GstClockTime timeout = 120 * GST_SECOND;
};

struct CaptureResult {
  bool ok = false;
  std::string error;               // Why not ok: a GStreamer error or the timeout.
  std::vector<RtpPacket> packets;  // In the order pay0 pushed them.
};

// Puts `bin` (a full reference, consumed) in a pipeline, links pay0 to an
// appsink, plays until EOS and tears the pipeline down.
CaptureResult CapturePay0(GstElement* bin, const CaptureOptions& options);

enum class VideoCodec { kH264, kH265 };

// A NAL unit as the decoder gets it: header included, no start code.
struct NalUnit {
  int type = 0;
  std::vector<uint8_t> bytes;
};

// Consecutive packets with one RTP timestamp: one frame on the wire.
struct RtpFrame {
  uint32_t timestamp = 0;
  std::vector<bool> markers;  // Marker bit of each packet, in order.
  size_t payload_bytes = 0;   // Sum of the packets' RTP payload sizes.
  std::vector<NalUnit> nals;  // Depayloaded, in decoding order.
};

// Groups `packets` into frames and depayloads them: single NAL unit
// packets, STAP-A / AP aggregates and FU-A / FU fragments. Returns false with
// *error for anything else or a broken fragment sequence.
bool DepayloadFrames(VideoCodec codec, const std::vector<RtpPacket>& packets,
                     std::vector<RtpFrame>* frames, std::string* error);

// NAL unit classes of the two codecs.
bool IsSlice(VideoCodec codec, const NalUnit& nal);  // Any VCL NAL unit.
// A slice that begins a picture: first_mb_in_slice == 0 (H.264) or
// first_slice_segment_in_pic_flag == 1 (H.265).
bool StartsPicture(VideoCodec codec, const NalUnit& nal);
// An IDR slice (H.264) or an IRAP slice (H.265: BLA, IDR, CRA).
bool IsRandomAccessSlice(VideoCodec codec, const NalUnit& nal);
// SPS, PPS and, for H.265, VPS.
bool IsParameterSet(VideoCodec codec, const NalUnit& nal);
// An SEI NAL unit (H.264 type 6, H.265 prefix 39 and suffix 40).
bool IsSei(VideoCodec codec, const NalUnit& nal);
// The payload types of the messages in SEI NAL unit `nal`, in order. Returns
// false if the messages do not end exactly at the rbsp trailing bits.
bool ParseSeiPayloadTypes(VideoCodec codec, const NalUnit& nal, std::vector<int>* types);
// The NAL unit types a random access point needs in front of it, in the
// order decoders expect: {SPS, PPS} or {VPS, SPS, PPS}.
std::vector<int> ParameterSetTypes(VideoCodec codec);

// The frames' NAL units as an Annex B byte stream (4-byte start codes), as
// ffmpeg's RTP demuxer hands them to its decoder.
std::vector<uint8_t> AnnexB(const std::vector<RtpFrame>& frames);

// Result of running a command line through /bin/sh.
struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together.
};
CommandResult RunCommand(const std::string& command);

// Writes `bytes` to a new file in $TEST_TMPDIR and returns its path.
std::string WriteTempFile(const std::string& name, const std::vector<uint8_t>& bytes);

}  // namespace testing
}  // namespace rtsptest

#endif  // RTSPTEST_TESTS_PLUGINS_TESTPATTERN_TEST_UTIL_H_
