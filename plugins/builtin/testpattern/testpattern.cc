// The "testpattern" source plugin: a live videotestsrc encoded as H.264,
// H.265 or MJPEG (pay0), an optional overlay with the stream name, the wall
// clock and a frame counter, and an optional live test tone (pay1).
//
// Every source is live (is-live=true): buffers carry the pipeline's running
// time when they were captured, so one shared media serves any number of
// readers and a late reader simply joins "now".
//
// What pay0 sends is meant to satisfy strict clients (ffmpeg, OpenCV), not
// only GStreamer's tolerant depayloader:
//   - one access unit per frame, one slice per picture: x264's zerolatency
//     tuning turns on sliced threads (a slice per thread), so they are turned
//     off again, and x265 is told slices=1 and frame-threads=1;
//   - parameter sets (SPS/PPS, and VPS for H.265) in-band, once, in front of
//     every IDR picture, emitted by the encoder itself (x264 always does,
//     x265 with repeat-headers=1; the extra, partly stale copy x265enc puts
//     in front of its first frame is dropped). The payloaders never insert
//     their own (config-interval=0): rtph264pay/rtph265pay insert a copy in
//     front of every IDR *slice* and again on a forced key unit, on top of
//     the encoder's, which is what broke ffmpeg;
//   - RTP timestamps one frame interval (90000/fps) apart exactly: frame
//     times are moved onto the 90 kHz grid before the payloader truncates
//     them;
//   - CBR by default: the encoders' VBV at bitrate_kbps with filler data, so
//     a static picture costs what a busy one does, as with a real camera.
// Encoders emit a keyframe every `gop` frames, and an IDR on a force-key-unit
// request from downstream (the server sends one when a reader joins).
#include <gst/gst.h>
#include <gst/video/video.h>

#include <string>
#include <utility>
#include <vector>

#include "plugins/builtin/util/plugin_util.h"
#include "plugins/sdk/rts_plugin.h"

namespace {

using rtsptest::plugins::AddAndLink;
using rtsptest::plugins::ErrorSink;
using rtsptest::plugins::MakeElement;

const char* const kPatterns[] = {"smpte",
                                 "snow",
                                 "black",
                                 "white",
                                 "red",
                                 "green",
                                 "blue",
                                 "checkers-1",
                                 "checkers-2",
                                 "checkers-4",
                                 "checkers-8",
                                 "circular",
                                 "blink",
                                 "smpte75",
                                 "zone-plate",
                                 "gamut",
                                 "chroma-zone-plate",
                                 "solid-color",
                                 "ball",
                                 "smpte100",
                                 "bar",
                                 "pinwheel",
                                 "spokes",
                                 "gradient",
                                 "colors",
                                 "smpte-rp-219",
                                 nullptr};
const char* const kCodecs[] = {"h264", "h265", "mjpeg", nullptr};
const char* const kRateControls[] = {"cbr", "vbr", nullptr};
// Every encoder here ships in Debian 12: opusenc (-base), mulawenc/alawenc
// (-good), voaacenc (-bad) or avenc_aac (gstreamer1.0-libav).
const char* const kAudioCodecs[] = {"none", "opus", "pcmu", "pcma", "aac", nullptr};

const rts_param_spec kParams[] = {
    {"pattern", RTS_PARAM_TYPE_ENUM, "smpte", 0, 0, kPatterns, "videotestsrc pattern"},
    {"width", RTS_PARAM_TYPE_INT, "1280", 16, 7680, nullptr,
     "frame width in pixels (even for h264/h265, <= 2040 for mjpeg)"},
    {"height", RTS_PARAM_TYPE_INT, "720", 16, 4320, nullptr,
     "frame height in pixels (even for h264/h265, <= 2040 for mjpeg)"},
    {"fps", RTS_PARAM_TYPE_INT, "30", 1, 120, nullptr, "frames per second"},
    {"codec", RTS_PARAM_TYPE_ENUM, "h264", 0, 0, kCodecs, "video codec"},
    {"bitrate_kbps", RTS_PARAM_TYPE_INT, "2000", 64, 100000, nullptr,
     "video bitrate in kbit/s (h264, h265)"},
    {"rate_control", RTS_PARAM_TYPE_ENUM, "cbr", 0, 0, kRateControls,
     "cbr: bitrate_kbps at all times, padded with filler data; vbr: at most "
     "bitrate_kbps, less for simple pictures (h264, h265)"},
    {"gop", RTS_PARAM_TYPE_INT, "60", 1, 1000, nullptr, "frames between keyframes (h264, h265)"},
    {"overlay", RTS_PARAM_TYPE_BOOL, "true", 0, 0, nullptr,
     "draw stream name, wall clock and frame counter on the video"},
    {"audio", RTS_PARAM_TYPE_ENUM, "none", 0, 0, kAudioCodecs,
     "audio track (pay1): a sine tone in this codec, or none"},
    {"audio_freq_hz", RTS_PARAM_TYPE_DOUBLE, "440", 20, 20000, nullptr,
     "frequency of the audio tone in Hz"},
};

// State of the frame-counter probe; freed by GStreamer when the probe goes
// away with its pad, i.e. when the bin is finalized.
struct FrameCounter {
  GstElement* overlay;  // Unowned: the probe lives on the overlay's own pad.
  std::string prefix;
  guint64 frames = 0;
};

// Runs in the video streaming thread before textoverlay's chain function, so
// the text set here is drawn on this very buffer.
GstPadProbeReturn CountFrame(GstPad* pad, GstPadProbeInfo* info, gpointer user_data) {
  auto* counter = static_cast<FrameCounter*>(user_data);
  std::string text = counter->prefix + "  frame " + std::to_string(counter->frames++);
  g_object_set(counter->overlay, "text", text.c_str(), nullptr);
  return GST_PAD_PROBE_OK;
}

void FreeFrameCounter(gpointer data) { delete static_cast<FrameCounter*>(data); }

// Puts video frames on the 90 kHz RTP clock, exactly one frame interval
// apart. The payloader turns a PTS into an RTP timestamp by truncating
// PTS * 90000 / 1e9, and videotestsrc stamps frame n at
// first + floor(n * 1e9 / fps) ns: at 30 fps the product lands a hair below
// a whole tick, so with some starting points (a live source starts at
// whatever running time the pipeline has reached; 0 when not live) the
// intervals jitter between 2999 and 3001. Counting ticks from the first
// frame (rounded) and moving each PTS up to the first nanosecond of its tick
// makes the truncation exact. Frames move by less than 12 us.
class RtpClockAligner {
 public:
  // Pad probe on the video source's src pad; `user_data` is the aligner.
  // Runs in the video streaming thread only.
  static GstPadProbeReturn Probe(GstPad* pad, GstPadProbeInfo* info, gpointer user_data) {
    auto* self = static_cast<RtpClockAligner*>(user_data);
    GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!GST_BUFFER_PTS_IS_VALID(buffer)) return GST_PAD_PROBE_OK;
    const GstClockTime aligned = self->Align(GST_BUFFER_PTS(buffer));
    if (aligned == GST_BUFFER_PTS(buffer)) return GST_PAD_PROBE_OK;
    // The source's buffers are not shared yet, so this copies no pixels.
    buffer = gst_buffer_make_writable(buffer);
    GST_BUFFER_PTS(buffer) = aligned;
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
    return GST_PAD_PROBE_OK;
  }

  static void Free(gpointer data) { delete static_cast<RtpClockAligner*>(data); }

 private:
  static constexpr int kRtpClockRate = 90000;

  GstClockTime Align(GstClockTime pts) {
    if (!started_ || pts < first_pts_) {  // First frame, or time restarted.
      started_ = true;
      first_pts_ = pts;
      first_ticks_ = gst_util_uint64_scale_int_round(pts, kRtpClockRate, GST_SECOND);
    }
    const guint64 ticks =
        first_ticks_ + gst_util_uint64_scale_int_round(pts - first_pts_, kRtpClockRate, GST_SECOND);
    return gst_util_uint64_scale_int_ceil(ticks, GST_SECOND, kRtpClockRate);
  }

  bool started_ = false;
  GstClockTime first_pts_ = 0;
  guint64 first_ticks_ = 0;
};

// The encoders put the parameter sets in front of every IDR themselves, so
// the payloader must not add its own when GstVideoEncoder announces a forced
// key unit with all-headers=TRUE (which the server's request for a joining
// reader asks for): that would send them twice. Rewrites the announcement
// with all-headers=FALSE on pay0's sink pad.
GstPadProbeReturn KeepParameterSetsInBand(GstPad* pad, GstPadProbeInfo* info, gpointer user_data) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (!gst_video_event_is_force_key_unit(event) ||
      GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_DOWNSTREAM) {
    return GST_PAD_PROBE_OK;
  }
  GstClockTime timestamp, stream_time, running_time;
  gboolean all_headers = FALSE;
  guint count = 0;
  if (!gst_video_event_parse_downstream_force_key_unit(event, &timestamp, &stream_time,
                                                       &running_time, &all_headers, &count) ||
      !all_headers) {
    return GST_PAD_PROBE_OK;
  }
  GST_PAD_PROBE_INFO_DATA(info) = gst_video_event_new_downstream_force_key_unit(
      timestamp, stream_time, running_time, FALSE, count);
  gst_event_unref(event);
  return GST_PAD_PROBE_OK;
}

// Offsets [begin, end) of the NAL units of an Annex B byte stream, each
// including its start code.
std::vector<std::pair<gsize, gsize>> AnnexBUnits(const guint8* data, gsize size) {
  std::vector<std::pair<gsize, gsize>> units;
  gsize i = 0;
  while (i + 3 <= size) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      const gsize begin = (i > 0 && data[i - 1] == 0) ? i - 1 : i;
      if (!units.empty()) units.back().second = begin;
      units.emplace_back(begin, size);
      i += 3;
    } else {
      ++i;
    }
  }
  return units;
}

// x265enc prepends the stream headers (x265_encoder_headers) to its first
// frame. With repeat-headers=1 that frame carries its own VPS/SPS/PPS, so
// the prepended copy is redundant, and it is also broken: x265 3.5 appends
// a stale copy of an earlier SEI to it, leftover bytes that may even
// contain start codes. Drops everything in front of the frame's own VPS,
// the last one in the buffer (slice data after it cannot contain a start
// code). Runs in the video streaming thread, on key frames only; later key
// frames carry one VPS and pass untouched.
GstPadProbeReturn DropX265StreamHeader(GstPad* pad, GstPadProbeInfo* info, gpointer user_data) {
  constexpr int kVps = 32;
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)) {
    return GST_PAD_PROBE_OK;
  }
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_PAD_PROBE_OK;
  int vps_count = 0;
  gsize last_vps = 0;
  for (const auto& [begin, end] : AnnexBUnits(map.data, map.size)) {
    gsize header = begin + 2;
    if (map.data[header] == 0) ++header;  // A 4-byte start code.
    header += 1;
    if (header < end && ((map.data[header] >> 1) & 0x3f) == kVps) {
      ++vps_count;
      last_vps = begin;
    }
  }
  const gsize size = map.size;
  gst_buffer_unmap(buffer, &map);
  if (vps_count < 2) return GST_PAD_PROBE_OK;
  GstBuffer* frame = gst_buffer_copy_region(buffer, GST_BUFFER_COPY_ALL, last_vps, size - last_vps);
  gst_buffer_unref(buffer);
  GST_PAD_PROBE_INFO_DATA(info) = frame;
  return GST_PAD_PROBE_OK;
}

// What the video encoder is asked for.
struct EncoderSettings {
  long long width;
  long long height;
  long long fps;
  long long gop;
  long long kbps;
  bool cbr;
};

// x264 at ultrafast cost, one slice per picture, every IDR with SPS/PPS
// in front (x264's default), CBR with filler data or capped VBR.
GstElement* MakeH264Encoder(const EncoderSettings& settings, const ErrorSink& error) {
  GstElement* encoder = MakeElement("x264enc", "encoder", error);
  if (encoder == nullptr) return nullptr;
  // zerolatency: no B-frames, no lookahead, no frame delay.
  gst_util_set_object_arg(G_OBJECT(encoder), "tune", "zerolatency");
  gst_util_set_object_arg(G_OBJECT(encoder), "speed-preset", "ultrafast");
  // zerolatency also turns on sliced threads: one slice per thread, so
  // several slices per picture (two on a 2-core machine). x264enc applies
  // explicitly set properties after the tuning, so this wins.
  // One thread encodes up to 1080p30 at ultrafast in a fraction of a core,
  // with no frame of delay; bigger streams get x264's frame threads (whole
  // frames in parallel, still one slice each, a few frames of delay).
  const bool one_thread = settings.width * settings.height * settings.fps <= 1920LL * 1080 * 30;
  g_object_set(encoder, "sliced-threads", FALSE, "threads", one_thread ? 1u : 0u, "key-int-max",
               static_cast<guint>(settings.gop), "bitrate", static_cast<guint>(settings.kbps),
               // VBV of one second: the IDR fits, and any second of the
               // stream is within a frame or so of bitrate_kbps.
               "vbv-buf-capacity", 1000u, nullptr);
  // pass=cbr is x264's ABR with the VBV rate at `bitrate`: a ceiling that
  // simple pictures stay well under. nal-hrd=cbr makes it constant: x264
  // signals CBR in the SPS and pads every frame up to the VBV rate with
  // filler data NAL units.
  gst_util_set_object_arg(G_OBJECT(encoder), "pass", "cbr");
  if (settings.cbr) {
    g_object_set(encoder, "option-string", "nal-hrd=cbr", nullptr);
  }
  return encoder;
}

// x265 at ultrafast cost, one slice per picture, every key frame an IDR with
// VPS/SPS/PPS in front, CBR with filler data or capped VBR.
GstElement* MakeH265Encoder(const EncoderSettings& settings, const ErrorSink& error) {
  GstElement* encoder = MakeElement("x265enc", "encoder", error);
  if (encoder == nullptr) return nullptr;
  gst_util_set_object_arg(G_OBJECT(encoder), "tune", "zerolatency");
  gst_util_set_object_arg(G_OBJECT(encoder), "speed-preset", "ultrafast");
  // open-gop=0: every key frame is an IDR, where a late reader can start.
  // repeat-headers=1: VPS/SPS/PPS in front of each of them. info=0: no 2 KB
  // SEI of encoder settings with each. slices=1 and frame-threads=1
  // (zerolatency's choice too) keep one slice and no frame delay; x265's
  // wavefront threads work inside the one slice. The VBV runs at
  // bitrate_kbps with one second of buffer, as for x264; strict-cbr pads
  // each frame with filler data up to that rate, hrd=1 signals CBR.
  const std::string kbps = std::to_string(settings.kbps);
  std::string options =
      "open-gop=0:repeat-headers=1:info=0:slices=1:frame-threads=1:"
      "vbv-maxrate=" +
      kbps + ":vbv-bufsize=" + kbps;
  if (settings.cbr) options += ":strict-cbr=1:hrd=1";
  g_object_set(encoder, "key-int-max", static_cast<int>(settings.gop), "bitrate",
               static_cast<guint>(settings.kbps), "option-string", options.c_str(), nullptr);
  return encoder;
}

// Appends the elements for the video branch, ending at pay0, to `chain`.
bool BuildVideo(const rts_stream_context* context, const ErrorSink& error,
                std::vector<GstElement*>* chain) {
  const long long width = rts_param_get_int(context, "width");
  const long long height = rts_param_get_int(context, "height");
  const long long fps = rts_param_get_int(context, "fps");
  const long long gop = rts_param_get_int(context, "gop");
  const long long kbps = rts_param_get_int(context, "bitrate_kbps");
  const std::string codec = rts_param_get(context, "codec");

  GstElement* source = MakeElement("videotestsrc", "source", error);
  if (source == nullptr) return false;
  chain->push_back(source);
  g_object_set(source, "is-live", TRUE, nullptr);
  gst_util_set_object_arg(G_OBJECT(source), "pattern", rts_param_get(context, "pattern"));
  GstPad* source_pad = gst_element_get_static_pad(source, "src");
  gst_pad_add_probe(source_pad, GST_PAD_PROBE_TYPE_BUFFER, &RtpClockAligner::Probe,
                    new RtpClockAligner, &RtpClockAligner::Free);
  gst_object_unref(source_pad);

  GstElement* raw_caps = MakeElement("capsfilter", "rawcaps", error);
  if (raw_caps == nullptr) return false;
  chain->push_back(raw_caps);
  GstCaps* caps = gst_caps_new_simple("video/x-raw", "width", G_TYPE_INT, static_cast<int>(width),
                                      "height", G_TYPE_INT, static_cast<int>(height), "framerate",
                                      GST_TYPE_FRACTION, static_cast<int>(fps), 1,
                                      "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr);
  g_object_set(raw_caps, "caps", caps, nullptr);
  gst_caps_unref(caps);

  if (rts_param_get_bool(context, "overlay")) {
    GstElement* text = MakeElement("textoverlay", "name_overlay", error);
    if (text == nullptr) return false;
    chain->push_back(text);
    g_object_set(text, "shaded-background", TRUE, nullptr);
    gst_util_set_object_arg(G_OBJECT(text), "halignment", "left");
    gst_util_set_object_arg(G_OBJECT(text), "valignment", "top");
    GstElement* clock = MakeElement("clockoverlay", "clock_overlay", error);
    if (clock == nullptr) return false;
    chain->push_back(clock);
    g_object_set(clock, "shaded-background", TRUE, "time-format", "%Y-%m-%d %H:%M:%S", nullptr);
    gst_util_set_object_arg(G_OBJECT(clock), "halignment", "left");
    gst_util_set_object_arg(G_OBJECT(clock), "valignment", "bottom");

    auto* counter = new FrameCounter;
    counter->overlay = text;
    counter->prefix = context->stream_path ? context->stream_path : "";
    GstPad* pad = gst_element_get_static_pad(text, "video_sink");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, CountFrame, counter, FreeFrameCounter);
    gst_object_unref(pad);
  }

  GstElement* convert = MakeElement("videoconvert", "convert", error);
  if (convert == nullptr) return false;
  chain->push_back(convert);

  // The encoders want 4:2:0; rtpjpegpay only carries 4:2:0 / 4:2:2 JPEG.
  GstElement* yuv_caps = MakeElement("capsfilter", "yuvcaps", error);
  if (yuv_caps == nullptr) return false;
  chain->push_back(yuv_caps);
  caps = gst_caps_from_string("video/x-raw,format=I420");
  g_object_set(yuv_caps, "caps", caps, nullptr);
  gst_caps_unref(caps);

  const EncoderSettings settings{
      width, height, fps, gop, kbps, rts_param_get(context, "rate_control") == std::string("cbr")};
  GstElement* encoder = nullptr;
  GstElement* pay = nullptr;
  if (codec == "h264") {
    encoder = MakeH264Encoder(settings, error);
    if (encoder == nullptr) return false;
    pay = MakeElement("rtph264pay", "pay0", error);
  } else if (codec == "h265") {
    encoder = MakeH265Encoder(settings, error);
    if (encoder == nullptr) return false;
    pay = MakeElement("rtph265pay", "pay0", error);
  } else {  // mjpeg: every frame is a keyframe; quality-based, no bitrate.
    encoder = MakeElement("jpegenc", "encoder", error);
    if (encoder == nullptr) return false;
    pay = MakeElement("rtpjpegpay", "pay0", error);
  }
  chain->push_back(encoder);
  if (pay == nullptr) return false;
  chain->push_back(pay);
  g_object_set(pay, "pt", codec == "mjpeg" ? 26u : 96u, nullptr);
  if (codec != "mjpeg") {
    // Parameter sets come from the encoder only; see the top of the file.
    g_object_set(pay, "config-interval", 0, nullptr);
    GstPad* pay_sink = gst_element_get_static_pad(pay, "sink");
    gst_pad_add_probe(pay_sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, KeepParameterSetsInBand,
                      nullptr, nullptr);
    if (codec == "h265") {
      gst_pad_add_probe(pay_sink, GST_PAD_PROBE_TYPE_BUFFER, DropX265StreamHeader, nullptr,
                        nullptr);
    }
    gst_object_unref(pay_sink);
  }
  return true;
}

// Appends the elements for the audio branch, ending at pay1, to `chain`.
bool BuildAudio(const rts_stream_context* context, const std::string& codec, const ErrorSink& error,
                std::vector<GstElement*>* chain) {
  const char* encoder_name = nullptr;
  const char* pay_name = nullptr;
  int rate = 48000;
  guint pt = 97;
  if (codec == "opus") {
    encoder_name = "opusenc";
    pay_name = "rtpopuspay";
  } else if (codec == "pcmu") {
    encoder_name = "mulawenc";
    pay_name = "rtppcmupay";
    rate = 8000;
    pt = 0;  // Static payload type of RFC 3551.
  } else if (codec == "pcma") {
    encoder_name = "alawenc";
    pay_name = "rtppcmapay";
    rate = 8000;
    pt = 8;
  } else {  // aac: whichever AAC encoder this machine has.
    for (const char* candidate : {"voaacenc", "avenc_aac", "fdkaacenc"}) {
      GstElementFactory* factory = gst_element_factory_find(candidate);
      if (factory != nullptr) {
        gst_object_unref(factory);
        encoder_name = candidate;
        break;
      }
    }
    if (encoder_name == nullptr) {
      error.Set(
          "missing GStreamer AAC encoder: none of voaacenc, avenc_aac, "
          "fdkaacenc (install the Debian package gstreamer1.0-plugins-bad or "
          "gstreamer1.0-libav)");
      return false;
    }
    pay_name = "rtpmp4gpay";
  }

  GstElement* source = MakeElement("audiotestsrc", "audio_source", error);
  if (source == nullptr) return false;
  chain->push_back(source);
  // 20 ms buffers: one Opus frame, and a usual RTP packet duration for PCM.
  g_object_set(source, "is-live", TRUE, "freq", rts_param_get_double(context, "audio_freq_hz"),
               "samplesperbuffer", rate / 50, nullptr);
  for (const char* name : {"audioconvert", "audioresample"}) {
    GstElement* element = MakeElement(name, nullptr, error);
    if (element == nullptr) return false;
    chain->push_back(element);
  }
  GstElement* caps_filter = MakeElement("capsfilter", "audio_caps", error);
  if (caps_filter == nullptr) return false;
  chain->push_back(caps_filter);
  GstCaps* caps = gst_caps_new_simple("audio/x-raw", "rate", G_TYPE_INT, rate, "channels",
                                      G_TYPE_INT, 1, nullptr);
  g_object_set(caps_filter, "caps", caps, nullptr);
  gst_caps_unref(caps);
  GstElement* encoder = MakeElement(encoder_name, "audio_encoder", error);
  if (encoder == nullptr) return false;
  chain->push_back(encoder);
  GstElement* pay = MakeElement(pay_name, "pay1", error);
  if (pay == nullptr) return false;
  chain->push_back(pay);
  g_object_set(pay, "pt", pt, nullptr);
  return true;
}

// Parameters are valid one by one (the host checked them against kParams);
// only combinations are checked here.
bool CheckCombination(const rts_stream_context* context, const ErrorSink& error) {
  const std::string codec = rts_param_get(context, "codec");
  const long long width = rts_param_get_int(context, "width");
  const long long height = rts_param_get_int(context, "height");
  if (codec != "mjpeg" && (width % 2 != 0 || height % 2 != 0)) {
    error.Set("parameter width=" + std::to_string(width) + " height=" + std::to_string(height) +
              ": codec " + codec + " needs even width and height");
    return false;
  }
  // RFC 2435 stores width/8 and height/8 in one byte each.
  if (codec == "mjpeg" && (width > 2040 || height > 2040)) {
    error.Set("parameter width=" + std::to_string(width) + " height=" + std::to_string(height) +
              ": codec mjpeg (RTP/JPEG) allows at most 2040x2040");
    return false;
  }
  return true;
}

void* Create(const rts_stream_context* context, char* error_buffer, size_t error_size) {
  const ErrorSink error{error_buffer, error_size};
  if (!CheckCombination(context, error)) return nullptr;

  std::vector<GstElement*> video;
  std::vector<GstElement*> audio;
  const std::string audio_codec = rts_param_get(context, "audio");
  bool ok = BuildVideo(context, error, &video);
  if (ok && audio_codec != "none") {
    ok = BuildAudio(context, audio_codec, error, &audio);
  }
  // Sink every element before handing it to the bin, so that the failure
  // path below can drop them uniformly.
  GstElement* bin = gst_bin_new(nullptr);
  if (ok) {
    // AddAndLink adds every element before linking, so the bin owns all of
    // them (and frees them) whichever link fails.
    ok = AddAndLink(GST_BIN(bin), video.data(), video.size(), error);
    ok = AddAndLink(GST_BIN(bin), audio.data(), audio.size(), error) && ok;
  } else {
    for (GstElement* element : video) gst_object_unref(gst_object_ref_sink(element));
    for (GstElement* element : audio) gst_object_unref(gst_object_ref_sink(element));
  }
  if (!ok) {
    gst_object_unref(gst_object_ref_sink(bin));
    return nullptr;
  }
  return bin;  // Floating: the host sinks it.
}

}  // namespace

extern "C" {
RTS_PLUGIN_DEFINE("testpattern", "1.0.0",
                  "Live test pattern (H.264/H.265/MJPEG) with optional "
                  "overlay and test tone",
                  kParams, Create)
}
