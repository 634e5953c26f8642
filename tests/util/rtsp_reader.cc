// RtspReader implementation. Elements are added from GStreamer's streaming
// threads (pad-added), so every piece of shared state sits behind mutex_;
// the pipeline itself is only started and stopped from the test's thread.
#include "tests/util/rtsp_reader.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace rtsptest::testing {
namespace {

// Adds "<convert> ! capsfilter caps=<caps> ! appsink" to `bin` and links the
// decoded `pad` to it. Returns the appsink, or nullptr if linking failed.
GstElement* AddDecodedBranch(GstBin* bin, GstPad* pad, const char* convert_name,
                             const char* caps_text) {
  GstElement* convert = gst_element_factory_make(convert_name, nullptr);
  GstElement* filter = gst_element_factory_make("capsfilter", nullptr);
  GstElement* sink = gst_element_factory_make("appsink", nullptr);
  if (convert == nullptr || filter == nullptr || sink == nullptr) return nullptr;
  GstCaps* caps = gst_caps_from_string(caps_text);
  g_object_set(filter, "caps", caps, nullptr);
  gst_caps_unref(caps);
  // No clock sync: count frames as soon as they are decoded. A small queue
  // that drops keeps a slow test from ever stalling the decoder.
  g_object_set(sink, "sync", FALSE, "emit-signals", TRUE, "max-buffers", 4u, "drop", TRUE, nullptr);
  gst_bin_add_many(bin, convert, filter, sink, nullptr);
  if (!gst_element_link_many(convert, filter, sink, nullptr)) return nullptr;
  for (GstElement* element : {sink, filter, convert}) gst_element_sync_state_with_parent(element);
  GstPad* sink_pad = gst_element_get_static_pad(convert, "sink");
  GstPadLinkReturn linked = gst_pad_link(pad, sink_pad);
  gst_object_unref(sink_pad);
  return linked == GST_PAD_LINK_OK ? sink : nullptr;
}

}  // namespace

RtspReader::RtspReader(std::string url, RtspProtocol protocol, int latency_ms)
    : url_(std::move(url)), protocol_(protocol), latency_ms_(latency_ms) {}

RtspReader::~RtspReader() {
  if (pipeline_ == nullptr) return;
  // NULL joins the streaming threads, so no callback runs after this.
  gst_element_set_state(pipeline_, GST_STATE_NULL);
  GstBus* bus = gst_element_get_bus(pipeline_);
  gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
  gst_object_unref(bus);
  gst_object_unref(pipeline_);
}

absl::Status RtspReader::Start() {
  pipeline_ = gst_pipeline_new("rtsp-reader");
  GstElement* source = gst_element_factory_make("rtspsrc", "source");
  if (source == nullptr) return absl::InvalidArgumentError("no rtspsrc element");
  gst_util_set_object_arg(G_OBJECT(source), "protocols",
                          protocol_ == RtspProtocol::kTcp ? "tcp" : "udp");
  g_object_set(source, "location", url_.c_str(), "latency", static_cast<guint>(latency_ms_),
               nullptr);
  gst_bin_add(GST_BIN(pipeline_), source);
  g_signal_connect(source, "pad-added", G_CALLBACK(&RtspReader::OnSourcePadAdded), this);

  GstBus* bus = gst_element_get_bus(pipeline_);
  gst_bus_set_sync_handler(bus, reinterpret_cast<GstBusSyncHandler>(&RtspReader::OnBusMessage),
                           this, nullptr);
  gst_object_unref(bus);
  if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    return absl::UnavailableError(absl::StrCat(url_, ": cannot set the reader PLAYING"));
  }
  return absl::OkStatus();
}

absl::Status RtspReader::WaitForMedia(int video_frames, int audio_buffers, absl::Duration timeout) {
  absl::MutexLock lock(&mutex_);
  auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) {
    return !media_.error.empty() ||
           (media_.video_frames >= video_frames && media_.audio_buffers >= audio_buffers);
  };
  mutex_.AwaitWithTimeout(absl::Condition(&done), timeout);
  if (!media_.error.empty()) return absl::UnavailableError(absl::StrCat(url_, ": ", media_.error));
  if (media_.video_frames >= video_frames && media_.audio_buffers >= audio_buffers) {
    return absl::OkStatus();
  }
  return absl::DeadlineExceededError(
      absl::StrCat(url_, ": after ", absl::FormatDuration(timeout), " decoded ",
                   media_.video_frames, "/", video_frames, " video frames and ",
                   media_.audio_buffers, "/", audio_buffers, " audio buffers"));
}

DecodedMedia RtspReader::media() const {
  absl::MutexLock lock(&mutex_);
  return media_;
}

void RtspReader::RecordError(const std::string& error) {
  absl::MutexLock lock(&mutex_);
  if (media_.error.empty()) media_.error = error;
}

// rtspsrc exposes one pad per SDP media once SETUP succeeded.
void RtspReader::OnSourcePadAdded(GstElement* source, GstPad* pad, RtspReader* self) {
  GstElement* decodebin = gst_element_factory_make("decodebin", nullptr);
  if (decodebin == nullptr) return self->RecordError("no decodebin element");
  g_signal_connect(decodebin, "pad-added", G_CALLBACK(&RtspReader::OnDecodedPadAdded), self);
  gst_bin_add(GST_BIN(self->pipeline_), decodebin);
  gst_element_sync_state_with_parent(decodebin);
  GstPad* sink_pad = gst_element_get_static_pad(decodebin, "sink");
  if (gst_pad_link(pad, sink_pad) != GST_PAD_LINK_OK)
    self->RecordError("cannot link rtspsrc to decodebin");
  gst_object_unref(sink_pad);
}

void RtspReader::OnDecodedPadAdded(GstElement* decodebin, GstPad* pad, RtspReader* self) {
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (caps == nullptr) caps = gst_pad_query_caps(pad, nullptr);
  std::string media_type = gst_structure_get_name(gst_caps_get_structure(caps, 0));
  gst_caps_unref(caps);
  GstBin* bin = GST_BIN(self->pipeline_);
  if (absl::StartsWith(media_type, "video/x-raw")) {
    GstElement* sink = AddDecodedBranch(bin, pad, "videoconvert", "video/x-raw,format=I420");
    if (sink == nullptr) return self->RecordError("cannot link the decoded video");
    g_signal_connect(sink, "new-sample", G_CALLBACK(&RtspReader::OnVideoSample), self);
  } else if (absl::StartsWith(media_type, "audio/x-raw")) {
    GstElement* sink = AddDecodedBranch(bin, pad, "audioconvert", "audio/x-raw,format=S16LE");
    if (sink == nullptr) return self->RecordError("cannot link the decoded audio");
    g_signal_connect(sink, "new-sample", G_CALLBACK(&RtspReader::OnAudioSample), self);
  } else {
    self->RecordError(absl::StrCat("decodebin produced unexpected ", media_type));
  }
}

GstFlowReturn RtspReader::OnVideoSample(GstElement* sink, RtspReader* self) {
  GstSample* sample = nullptr;
  g_signal_emit_by_name(sink, "pull-sample", &sample);
  if (sample == nullptr) return GST_FLOW_EOS;
  int width = 0;
  int height = 0;
  if (GstCaps* caps = gst_sample_get_caps(sample)) {
    const GstStructure* structure = gst_caps_get_structure(caps, 0);
    gst_structure_get_int(structure, "width", &width);
    gst_structure_get_int(structure, "height", &height);
  }
  gst_sample_unref(sample);
  absl::MutexLock lock(&self->mutex_);
  ++self->media_.video_frames;
  self->media_.width = width;
  self->media_.height = height;
  return GST_FLOW_OK;
}

GstFlowReturn RtspReader::OnAudioSample(GstElement* sink, RtspReader* self) {
  GstSample* sample = nullptr;
  g_signal_emit_by_name(sink, "pull-sample", &sample);
  if (sample == nullptr) return GST_FLOW_EOS;
  int rate = 0;
  int channels = 0;
  if (GstCaps* caps = gst_sample_get_caps(sample)) {
    const GstStructure* structure = gst_caps_get_structure(caps, 0);
    gst_structure_get_int(structure, "rate", &rate);
    gst_structure_get_int(structure, "channels", &channels);
  }
  gst_sample_unref(sample);
  absl::MutexLock lock(&self->mutex_);
  ++self->media_.audio_buffers;
  self->media_.audio_rate = rate;
  self->media_.audio_channels = channels;
  return GST_FLOW_OK;
}

// Runs on whichever thread posts; records errors, drops everything (nobody
// pops this bus).
GstBusSyncReply RtspReader::OnBusMessage(GstBus*, GstMessage* message, RtspReader* self) {
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    GError* error = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(message, &error, &debug);
    self->RecordError(absl::StrCat(GST_MESSAGE_SRC_NAME(message), ": ", error->message,
                                   debug != nullptr ? absl::StrCat(" (", debug, ")") : ""));
    g_error_free(error);
    g_free(debug);
  }
  return GST_BUS_DROP;
}

}  // namespace rtsptest::testing
