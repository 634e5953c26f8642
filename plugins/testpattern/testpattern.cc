// The "testpattern" source plugin: a live videotestsrc encoded as H.264,
// H.265 or MJPEG (pay0), an optional overlay with the stream name, the wall
// clock and a frame counter, and an optional live test tone (pay1).
//
// Every source is live (is-live=true): buffers carry the pipeline's running
// time when they were captured, so one shared media serves any number of
// readers and a late reader simply joins "now". Encoders emit a keyframe every
// `gop` frames and payloaders resend SPS/PPS (VPS) with every IDR
// (config-interval=-1), so a late reader decodes from the next keyframe.
#include <gst/gst.h>

#include <string>
#include <vector>

#include "plugins/plugin_util.h"
#include "plugins/sdk/rts_plugin.h"

namespace {

using rtsptest::plugins::AddAndLink;
using rtsptest::plugins::ErrorSink;
using rtsptest::plugins::MakeElement;

const char* const kPatterns[] = {
    "smpte",      "snow",          "black",        "white",
    "red",        "green",         "blue",         "checkers-1",
    "checkers-2", "checkers-4",    "checkers-8",   "circular",
    "blink",      "smpte75",       "zone-plate",   "gamut",
    "chroma-zone-plate", "solid-color", "ball",    "smpte100",
    "bar",        "pinwheel",      "spokes",       "gradient",
    "colors",     "smpte-rp-219",  nullptr};
const char* const kCodecs[] = {"h264", "h265", "mjpeg", nullptr};
// Every encoder here ships in Debian 12: opusenc (-base), mulawenc/alawenc
// (-good), voaacenc (-bad) or avenc_aac (gstreamer1.0-libav).
const char* const kAudioCodecs[] = {"none", "opus", "pcmu", "pcma", "aac",
                                    nullptr};

const rts_param_spec kParams[] = {
    {"pattern", RTS_PARAM_TYPE_ENUM, "smpte", 0, 0, kPatterns,
     "videotestsrc pattern"},
    {"width", RTS_PARAM_TYPE_INT, "1280", 16, 7680, nullptr,
     "frame width in pixels (even for h264/h265, <= 2040 for mjpeg)"},
    {"height", RTS_PARAM_TYPE_INT, "720", 16, 4320, nullptr,
     "frame height in pixels (even for h264/h265, <= 2040 for mjpeg)"},
    {"fps", RTS_PARAM_TYPE_INT, "30", 1, 120, nullptr, "frames per second"},
    {"codec", RTS_PARAM_TYPE_ENUM, "h264", 0, 0, kCodecs, "video codec"},
    {"bitrate_kbps", RTS_PARAM_TYPE_INT, "2000", 64, 100000, nullptr,
     "video bitrate in kbit/s (h264, h265)"},
    {"gop", RTS_PARAM_TYPE_INT, "60", 1, 1000, nullptr,
     "frames between keyframes (h264, h265)"},
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
GstPadProbeReturn CountFrame(GstPad* pad, GstPadProbeInfo* info,
                             gpointer user_data) {
  auto* counter = static_cast<FrameCounter*>(user_data);
  std::string text =
      counter->prefix + "  frame " + std::to_string(counter->frames++);
  g_object_set(counter->overlay, "text", text.c_str(), nullptr);
  return GST_PAD_PROBE_OK;
}

void FreeFrameCounter(gpointer data) { delete static_cast<FrameCounter*>(data); }

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
  gst_util_set_object_arg(G_OBJECT(source), "pattern",
                          rts_param_get(context, "pattern"));

  GstElement* raw_caps = MakeElement("capsfilter", "rawcaps", error);
  if (raw_caps == nullptr) return false;
  chain->push_back(raw_caps);
  GstCaps* caps = gst_caps_new_simple(
      "video/x-raw", "width", G_TYPE_INT, static_cast<int>(width), "height",
      G_TYPE_INT, static_cast<int>(height), "framerate", GST_TYPE_FRACTION,
      static_cast<int>(fps), 1, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1,
      nullptr);
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
    g_object_set(clock, "shaded-background", TRUE, "time-format",
                 "%Y-%m-%d %H:%M:%S", nullptr);
    gst_util_set_object_arg(G_OBJECT(clock), "halignment", "left");
    gst_util_set_object_arg(G_OBJECT(clock), "valignment", "bottom");

    auto* counter = new FrameCounter;
    counter->overlay = text;
    counter->prefix = context->stream_path ? context->stream_path : "";
    GstPad* pad = gst_element_get_static_pad(text, "video_sink");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, CountFrame, counter,
                      FreeFrameCounter);
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

  GstElement* encoder = nullptr;
  GstElement* pay = nullptr;
  if (codec == "h264") {
    encoder = MakeElement("x264enc", "encoder", error);
    if (encoder == nullptr) return false;
    gst_util_set_object_arg(G_OBJECT(encoder), "tune", "zerolatency");
    gst_util_set_object_arg(G_OBJECT(encoder), "speed-preset", "ultrafast");
    g_object_set(encoder, "key-int-max", static_cast<guint>(gop), "bitrate",
                 static_cast<guint>(kbps), nullptr);
    pay = MakeElement("rtph264pay", "pay0", error);
  } else if (codec == "h265") {
    encoder = MakeElement("x265enc", "encoder", error);
    if (encoder == nullptr) return false;
    gst_util_set_object_arg(G_OBJECT(encoder), "tune", "zerolatency");
    gst_util_set_object_arg(G_OBJECT(encoder), "speed-preset", "ultrafast");
    // Closed GOPs: every keyframe is an IDR, so a late reader can start there.
    g_object_set(encoder, "key-int-max", static_cast<int>(gop), "bitrate",
                 static_cast<guint>(kbps), "option-string", "open-gop=0",
                 nullptr);
    pay = MakeElement("rtph265pay", "pay0", error);
  } else {  // mjpeg: every frame is a keyframe, bitrate and gop do not apply.
    encoder = MakeElement("jpegenc", "encoder", error);
    if (encoder == nullptr) return false;
    pay = MakeElement("rtpjpegpay", "pay0", error);
  }
  chain->push_back(encoder);
  if (pay == nullptr) return false;
  chain->push_back(pay);
  if (codec != "mjpeg") g_object_set(pay, "config-interval", -1, nullptr);
  g_object_set(pay, "pt", codec == "mjpeg" ? 26u : 96u, nullptr);
  return true;
}

// Appends the elements for the audio branch, ending at pay1, to `chain`.
bool BuildAudio(const rts_stream_context* context, const std::string& codec,
                const ErrorSink& error, std::vector<GstElement*>* chain) {
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
  g_object_set(source, "is-live", TRUE, "freq",
               rts_param_get_double(context, "audio_freq_hz"),
               "samplesperbuffer", rate / 50, nullptr);
  for (const char* name : {"audioconvert", "audioresample"}) {
    GstElement* element = MakeElement(name, nullptr, error);
    if (element == nullptr) return false;
    chain->push_back(element);
  }
  GstElement* caps_filter = MakeElement("capsfilter", "audio_caps", error);
  if (caps_filter == nullptr) return false;
  chain->push_back(caps_filter);
  GstCaps* caps = gst_caps_new_simple("audio/x-raw", "rate", G_TYPE_INT, rate,
                                      "channels", G_TYPE_INT, 1, nullptr);
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
bool CheckCombination(const rts_stream_context* context,
                      const ErrorSink& error) {
  const std::string codec = rts_param_get(context, "codec");
  const long long width = rts_param_get_int(context, "width");
  const long long height = rts_param_get_int(context, "height");
  if (codec != "mjpeg" && (width % 2 != 0 || height % 2 != 0)) {
    error.Set("parameter width=" + std::to_string(width) + " height=" +
              std::to_string(height) + ": codec " + codec +
              " needs even width and height");
    return false;
  }
  // RFC 2435 stores width/8 and height/8 in one byte each.
  if (codec == "mjpeg" && (width > 2040 || height > 2040)) {
    error.Set("parameter width=" + std::to_string(width) + " height=" +
              std::to_string(height) +
              ": codec mjpeg (RTP/JPEG) allows at most 2040x2040");
    return false;
  }
  return true;
}

void* Create(const rts_stream_context* context, char* error_buffer,
             size_t error_size) {
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
