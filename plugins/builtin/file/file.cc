// The "file" source plugin: loops a local media file (MP4, MKV, MPEG-TS with
// H.264/H.265 video and AAC/Opus audio) forever, without re-encoding.
//
// Design, and why:
//   * The streams are decided up front with GstDiscoverer (synchronously, with
//     a timeout), because the host needs pay0..payN to exist when create
//     returns, while a demuxer only adds its pads once data flows.
//   * The file is read by a private "inner" pipeline:
//       filesrc ! parsebin ! (per stream) queue ! <parser> ! appsink sync=true
//     The appsinks pace the file in real time against the same clock as the
//     host's pipeline. Looping is a flushing seek to 0 in that inner pipeline
//     only, so the host's pipeline never sees a flush, a new segment or a
//     timestamp going back.
//   * The returned bin holds, per stream, a live appsrc (is-live=true) and the
//     payloader payN. Each buffer is restamped with the host pipeline's
//     running time at which the inner pipeline rendered it:
//       out = inner_base_time + inner_running_time - outer_base_time
//     Both base times refer to the same clock, so audio and video stay in
//     sync, and since a new loop starts (new inner base time) only after the
//     last buffer of the previous loop was rendered, timestamps increase
//     strictly across loop points. To the host this source is live exactly
//     like testpattern: a shared media serves many readers, late readers join
//     "now".
//   * Buffers are forwarded only while the host's appsrc is PLAYING; after a
//     gap, video resumes at the next keyframe so that decoders never see a
//     broken GOP.
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "plugins/builtin/util/plugin_util.h"
#include "plugins/sdk/rts_plugin.h"

namespace {

using rtsptest::plugins::ErrorSink;
using rtsptest::plugins::MakeElement;

constexpr GstClockTime kDiscoverTimeout = 5 * GST_SECOND;

const rts_param_spec kParams[] = {
    {"location", RTS_PARAM_TYPE_STRING, nullptr, 0, 0, nullptr,
     "path of a local MP4/MKV/MPEG-TS file (H.264/H.265, AAC/Opus)"},
    {"loop", RTS_PARAM_TYPE_BOOL, "true", 0, 0, nullptr,
     "start again at the end of the file (false: end of stream)"},
};

// What each supported codec needs, from the discovered caps' name.
struct CodecInfo {
  const char* caps_name;  // As GstDiscoverer reports it.
  bool is_video;
  const char* parser;
  const char* sink_caps;  // What the payloader accepts.
  const char* payloader;
  guint pt;
};

const CodecInfo kCodecs[] = {
    {"video/x-h264", true, "h264parse", "video/x-h264,alignment=au", "rtph264pay", 96},
    {"video/x-h265", true, "h265parse", "video/x-h265,alignment=au", "rtph265pay", 96},
    {"audio/mpeg", false, "aacparse", "audio/mpeg,mpegversion=(int){2,4},stream-format=raw",
     "rtpmp4gpay", 97},
    {"audio/x-opus", false, "opusparse", "audio/x-opus", "rtpopuspay", 97},
};

const CodecInfo* FindCodec(const GstCaps* caps) {
  if (caps == nullptr || gst_caps_is_empty(caps)) return nullptr;
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  const char* name = gst_structure_get_name(s);
  for (const CodecInfo& codec : kCodecs) {
    if (g_strcmp0(codec.caps_name, name) != 0) continue;
    if (g_strcmp0(name, "audio/mpeg") == 0) {
      // audio/mpeg is also MP3 (mpegversion 1); only AAC is supported.
      int version = 0;
      if (!gst_structure_get_int(s, "mpegversion", &version) || version == 1) {
        return nullptr;
      }
    }
    return &codec;
  }
  return nullptr;
}

struct FileSource;

// One elementary stream: an inner appsink feeding an outer appsrc.
struct Stream {
  FileSource* source = nullptr;
  const CodecInfo* codec = nullptr;
  GstElement* appsrc = nullptr;  // One reference, owned.
  GstElement* queue = nullptr;   // Inner chain head; the inner pipeline owns it.
  // Touched only by this stream's inner streaming thread (the appsink's).
  bool need_keyframe = true;
  GstCaps* caps = nullptr;  // Last caps set on appsrc; owned.
};

// Everything one stream of this plugin owns. Attached to the returned bin with
// g_object_set_data_full, so it lives exactly as long as the bin.
struct FileSource {
  std::string location;
  bool loop = true;
  GstElement* inner = nullptr;  // The private GstPipeline; owned.
  std::vector<std::unique_ptr<Stream>> streams;
  std::mutex mutex;  // Guards started and the parsebin pad assignment.
  bool started = false;

  ~FileSource() {
    if (inner != nullptr) {
      // Stops and joins the inner streaming threads before the streams they
      // use go away. Safe here: this runs when the host drops the bin, never
      // from an inner streaming thread.
      gst_element_set_state(inner, GST_STATE_NULL);
      GstBus* bus = gst_element_get_bus(inner);
      gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
      gst_object_unref(bus);
      gst_object_unref(inner);
    }
    for (auto& stream : streams) {
      if (stream->caps != nullptr) gst_caps_unref(stream->caps);
      if (stream->appsrc != nullptr) gst_object_unref(stream->appsrc);
    }
  }
};

void DestroyFileSource(gpointer data) { delete static_cast<FileSource*>(data); }

// Runs on GStreamer's element thread pool (gst_element_call_async), never on
// a streaming thread, because a flushing seek joins the streaming threads.
void SeekToStart(GstElement* inner, gpointer user_data) {
  gst_element_seek_simple(inner, GST_FORMAT_TIME,
                          static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT),
                          0);
}

// The inner pipeline's bus handler, called in whichever thread posted. Every
// message is dropped: nobody else reads this private bus.
GstBusSyncReply OnInnerMessage(GstBus* bus, GstMessage* message, gpointer user_data) {
  auto* source = static_cast<FileSource*>(user_data);
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_EOS:
      if (source->loop) {
        gst_element_call_async(source->inner, SeekToStart, nullptr, nullptr);
      } else {
        for (auto& stream : source->streams) {
          gst_app_src_end_of_stream(GST_APP_SRC(stream->appsrc));
        }
      }
      break;
    case GST_MESSAGE_ERROR: {
      // Surface the failure on the host's bus, from the first appsrc.
      GError* error = nullptr;
      gchar* debug = nullptr;
      gst_message_parse_error(message, &error, &debug);
      GError* wrapped = g_error_new(error->domain, error->code, "file %s: %s",
                                    source->location.c_str(), error->message);
      GstElement* appsrc = source->streams.front()->appsrc;
      gst_element_post_message(appsrc, gst_message_new_error(GST_OBJECT(appsrc), wrapped, debug));
      g_error_free(wrapped);
      g_error_free(error);
      g_free(debug);
      break;
    }
    default:
      break;
  }
  return GST_BUS_DROP;
}

// Restamps a buffer from the inner pipeline's running time to the host's.
// Returns false if the mapping is not possible (yet).
bool MapTimestamp(GstClockTime inner_base, GstClockTime outer_base, const GstSegment* segment,
                  GstClockTime in, GstClockTime* out) {
  if (!GST_CLOCK_TIME_IS_VALID(in)) {
    *out = GST_CLOCK_TIME_NONE;
    return true;
  }
  GstClockTime running = gst_segment_to_running_time(segment, GST_FORMAT_TIME, in);
  if (!GST_CLOCK_TIME_IS_VALID(running)) return false;
  if (inner_base + running < outer_base) return false;
  *out = inner_base + running - outer_base;
  return true;
}

// appsink new-sample: runs on the stream's inner streaming thread, after the
// appsink waited on the clock, i.e. in real time.
GstFlowReturn OnNewSample(GstAppSink* sink, gpointer user_data) {
  auto* stream = static_cast<Stream*>(user_data);
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (sample == nullptr) return GST_FLOW_EOS;
  GstElement* appsrc = stream->appsrc;
  GstBuffer* buffer = gst_sample_get_buffer(sample);

  // Forward only while the host plays; a paused or stopped host would only
  // let stale data pile up.
  bool forward = GST_STATE(appsrc) == GST_STATE_PLAYING && buffer != nullptr;
  if (forward && stream->codec->is_video && stream->need_keyframe &&
      GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)) {
    forward = false;
  }
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  GstClockTime dts = GST_CLOCK_TIME_NONE;
  if (forward) {
    const GstClockTime inner_base = gst_element_get_base_time(stream->source->inner);
    const GstClockTime outer_base = gst_element_get_base_time(appsrc);
    const GstSegment* segment = gst_sample_get_segment(sample);
    forward = MapTimestamp(inner_base, outer_base, segment, GST_BUFFER_PTS(buffer), &pts) &&
              MapTimestamp(inner_base, outer_base, segment, GST_BUFFER_DTS(buffer), &dts);
  }
  if (!forward) {
    stream->need_keyframe = true;
    gst_sample_unref(sample);
    return GST_FLOW_OK;
  }

  GstCaps* caps = gst_sample_get_caps(sample);
  if (caps != nullptr && (stream->caps == nullptr || !gst_caps_is_equal(caps, stream->caps))) {
    gst_caps_replace(&stream->caps, caps);
    // MPEG-2 AAC (e.g. ADTS in MPEG-TS) is the same bitstream as MPEG-4 AAC
    // LC, but rtpmp4gpay accepts only mpegversion=4.
    GstCaps* out_caps = gst_caps_copy(caps);
    GstStructure* s = gst_caps_get_structure(out_caps, 0);
    if (gst_structure_has_name(s, "audio/mpeg")) {
      gst_structure_set(s, "mpegversion", G_TYPE_INT, 4, nullptr);
    }
    gst_app_src_set_caps(GST_APP_SRC(appsrc), out_caps);
    gst_caps_unref(out_caps);
  }
  // A shallow copy: new metadata (timestamps), same memory.
  GstBuffer* out = gst_buffer_copy(buffer);
  GST_BUFFER_PTS(out) = pts;
  GST_BUFFER_DTS(out) = dts;
  gst_sample_unref(sample);
  // FLUSHING means the host stopped meanwhile: drop and resync at a keyframe.
  // The inner pipeline keeps running either way.
  if (gst_app_src_push_buffer(GST_APP_SRC(appsrc), out) == GST_FLOW_OK) {
    stream->need_keyframe = false;
  } else {
    stream->need_keyframe = true;
  }
  return GST_FLOW_OK;
}

// appsrc need-data: runs on the host's streaming thread once the host's
// pipeline is PLAYING. Starts the inner pipeline on the host's clock, once.
void OnNeedData(GstAppSrc* appsrc, guint length, gpointer user_data) {
  auto* source = static_cast<FileSource*>(user_data);
  std::lock_guard<std::mutex> lock(source->mutex);
  if (source->started) return;
  GstClock* clock = gst_element_get_clock(GST_ELEMENT(appsrc));
  if (clock == nullptr) return;  // Not PLAYING yet; asked again later.
  source->started = true;
  gst_pipeline_use_clock(GST_PIPELINE(source->inner), clock);
  gst_object_unref(clock);
  gst_element_set_state(source->inner, GST_STATE_PLAYING);
}

// parsebin pad-added: links each new elementary stream to the chain made for
// it at create time, in discovery order per kind; anything else is discarded.
void OnParsebinPad(GstElement* parsebin, GstPad* pad, gpointer user_data) {
  auto* source = static_cast<FileSource*>(user_data);
  // Only the kind matters here: GstDiscoverer already checked the codecs, and
  // the caps at this point may not be fixed yet (e.g. AAC from MPEG-TS).
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (caps == nullptr) caps = gst_pad_query_caps(pad, nullptr);
  const char* name =
      gst_caps_is_empty(caps) ? "" : gst_structure_get_name(gst_caps_get_structure(caps, 0));
  const bool is_video = g_str_has_prefix(name, "video/");
  const bool is_audio = g_str_has_prefix(name, "audio/");
  gst_caps_unref(caps);

  std::lock_guard<std::mutex> lock(source->mutex);
  for (auto& stream : source->streams) {
    if (!(is_video || is_audio) || stream->codec->is_video != is_video) {
      continue;
    }
    GstPad* sink = gst_element_get_static_pad(stream->queue, "sink");
    const bool free = !gst_pad_is_linked(sink);
    if (free) gst_pad_link(pad, sink);
    gst_object_unref(sink);
    if (free) return;
  }
  // An unlinked pad would stop the demuxer with not-linked.
  GstElement* discard = gst_element_factory_make("fakesink", nullptr);
  g_object_set(discard, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add(GST_BIN(source->inner), discard);
  gst_element_sync_state_with_parent(discard);
  GstPad* sink = gst_element_get_static_pad(discard, "sink");
  gst_pad_link(pad, sink);
  gst_object_unref(sink);
}

// Finds the first video and the first audio stream of the file.
bool Discover(const std::string& location, const ErrorSink& error,
              std::vector<const CodecInfo*>* codecs) {
  if (!g_file_test(location.c_str(), G_FILE_TEST_IS_REGULAR)) {
    error.Set("file " + location + ": no such file");
    return false;
  }
  GError* gerror = nullptr;
  gchar* uri = gst_filename_to_uri(location.c_str(), &gerror);
  if (uri == nullptr) {
    error.Set("file " + location + ": " + gerror->message);
    g_error_free(gerror);
    return false;
  }
  GstDiscoverer* discoverer = gst_discoverer_new(kDiscoverTimeout, &gerror);
  if (discoverer == nullptr) {
    error.Set(std::string("file: cannot create a discoverer: ") + gerror->message);
    g_error_free(gerror);
    g_free(uri);
    return false;
  }
  GstDiscovererInfo* info = gst_discoverer_discover_uri(discoverer, uri, &gerror);
  g_free(uri);
  g_object_unref(discoverer);
  GstDiscovererResult result = info ? gst_discoverer_info_get_result(info) : GST_DISCOVERER_ERROR;
  if (result != GST_DISCOVERER_OK) {
    std::string why = result == GST_DISCOVERER_TIMEOUT
                          ? "timed out reading the file"
                          : (gerror ? gerror->message : "cannot read the file");
    error.Set("file " + location + ": " + why);
    if (gerror != nullptr) g_error_free(gerror);
    if (info != nullptr) gst_discoverer_info_unref(info);
    return false;
  }
  if (gerror != nullptr) g_error_free(gerror);

  bool ok = true;
  for (int want_video = 1; want_video >= 0 && ok; --want_video) {
    GList* list = want_video ? gst_discoverer_info_get_video_streams(info)
                             : gst_discoverer_info_get_audio_streams(info);
    if (list != nullptr) {
      auto* stream = static_cast<GstDiscovererStreamInfo*>(list->data);
      GstCaps* caps = gst_discoverer_stream_info_get_caps(stream);
      const CodecInfo* codec = FindCodec(caps);
      if (codec == nullptr) {
        gchar* text = caps ? gst_caps_to_string(caps) : g_strdup("(no caps)");
        std::string name(text);
        name = name.substr(0, name.find(','));
        error.Set("file " + location + ": unsupported " + (want_video ? "video" : "audio") +
                  " codec " + name +
                  (want_video ? " (supported: H.264, H.265)" : " (supported: AAC, Opus)"));
        g_free(text);
        ok = false;
      } else {
        codecs->push_back(codec);
      }
      if (caps != nullptr) gst_caps_unref(caps);
    }
    gst_discoverer_stream_info_list_free(list);
  }
  gst_discoverer_info_unref(info);
  if (ok && codecs->empty()) {
    error.Set("file " + location + ": no audio or video stream");
    ok = false;
  }
  return ok;
}

void* Create(const rts_stream_context* context, char* error_buffer, size_t error_size) {
  const ErrorSink error{error_buffer, error_size};
  auto source = std::make_unique<FileSource>();
  source->location = rts_param_get(context, "location");
  source->loop = rts_param_get_bool(context, "loop");

  std::vector<const CodecInfo*> codecs;
  if (!Discover(source->location, error, &codecs)) return nullptr;
  for (const char* factory : {"filesrc", "parsebin", "queue", "appsink", "appsrc"}) {
    GstElement* probe = MakeElement(factory, nullptr, error);
    if (probe == nullptr) return nullptr;
    gst_object_unref(gst_object_ref_sink(probe));
  }

  // The inner pipeline: filesrc ! parsebin, chains added per stream below.
  source->inner = gst_pipeline_new(nullptr);
  gst_object_ref_sink(source->inner);
  GstElement* filesrc = MakeElement("filesrc", nullptr, error);
  GstElement* parsebin = MakeElement("parsebin", nullptr, error);
  g_object_set(filesrc, "location", source->location.c_str(), nullptr);
  gst_bin_add_many(GST_BIN(source->inner), filesrc, parsebin, nullptr);
  gst_element_link(filesrc, parsebin);
  g_signal_connect(parsebin, "pad-added", G_CALLBACK(OnParsebinPad), source.get());
  GstBus* bus = gst_element_get_bus(source->inner);
  gst_bus_set_sync_handler(bus, OnInnerMessage, source.get(), nullptr);
  gst_object_unref(bus);

  GstElement* bin = gst_bin_new(nullptr);
  bool ok = true;
  for (size_t i = 0; i < codecs.size() && ok; ++i) {
    const CodecInfo* codec = codecs[i];
    auto stream = std::make_unique<Stream>();
    stream->source = source.get();
    stream->codec = codec;

    // Inner: queue ! parser ! appsink. The queue decouples the streams, so
    // that one appsink waiting on the clock does not hold up the other.
    stream->queue = MakeElement("queue", nullptr, error);
    GstElement* parser = MakeElement(codec->parser, nullptr, error);
    GstElement* appsink = MakeElement("appsink", nullptr, error);
    const std::string pay_name = "pay" + std::to_string(i);
    GstElement* pay = MakeElement(codec->payloader, pay_name.c_str(), error);
    if (parser == nullptr || pay == nullptr) {
      // The one failure left: a missing parser or payloader (message set).
      for (GstElement* e : {stream->queue, parser, appsink, pay}) {
        if (e != nullptr) gst_object_unref(gst_object_ref_sink(e));
      }
      ok = false;
      break;
    }
    GstCaps* caps = gst_caps_from_string(codec->sink_caps);
    g_object_set(appsink, "sync", TRUE, "caps", caps, "enable-last-sample", FALSE, nullptr);
    gst_caps_unref(caps);
    GstAppSinkCallbacks sink_callbacks = {};
    sink_callbacks.new_sample = OnNewSample;
    gst_app_sink_set_callbacks(GST_APP_SINK(appsink), &sink_callbacks, stream.get(), nullptr);
    gst_bin_add_many(GST_BIN(source->inner), stream->queue, parser, appsink, nullptr);
    gst_element_link_many(stream->queue, parser, appsink, nullptr);

    // Outer: appsrc ! payN. The appsrc is live and already timestamped;
    // leaky with a bound, so a stalled host can never grow it without limit.
    const std::string src_name = "src" + std::to_string(i);
    stream->appsrc = MakeElement("appsrc", src_name.c_str(), error);
    gst_object_ref_sink(stream->appsrc);  // Our own reference, see ~FileSource.
    g_object_set(stream->appsrc, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp", FALSE,
                 "min-latency", G_GINT64_CONSTANT(0), "max-time",
                 static_cast<guint64>(2 * GST_SECOND), "max-bytes", static_cast<guint64>(0),
                 "block", FALSE, nullptr);
    gst_util_set_object_arg(G_OBJECT(stream->appsrc), "leaky-type", "downstream");
    GstAppSrcCallbacks src_callbacks = {};
    src_callbacks.need_data = OnNeedData;
    gst_app_src_set_callbacks(GST_APP_SRC(stream->appsrc), &src_callbacks, source.get(), nullptr);
    if (codec->is_video) g_object_set(pay, "config-interval", -1, nullptr);
    g_object_set(pay, "pt", codec->pt, nullptr);
    gst_bin_add_many(GST_BIN(bin), stream->appsrc, pay, nullptr);
    gst_element_link(stream->appsrc, pay);
    source->streams.push_back(std::move(stream));
  }
  if (!ok) {
    gst_object_unref(gst_object_ref_sink(bin));
    return nullptr;  // ~FileSource tears the inner pipeline down.
  }
  g_object_set_data_full(G_OBJECT(bin), "rts-file-source", source.release(), DestroyFileSource);
  return bin;  // Floating: the host sinks it.
}

}  // namespace

extern "C" {
RTS_PLUGIN_DEFINE("file", "1.0.0", "Loops a local MP4/MKV/MPEG-TS file without re-encoding",
                  kParams, Create)
}
