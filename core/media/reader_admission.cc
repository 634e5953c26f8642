// ReaderAdmission: a KeyFrameGate per video track.
#include "core/media/reader_admission.h"

#include <string>

#include "core/media/live_tuning.h"

namespace rtsptest::core {
namespace {

// The RTP encoding name a track's payloader produces ("H264", "OPUS", ...).
std::string EncodingNameOf(GstRTSPStream* stream) {
  std::string name;
  GstPad* pad = gst_rtsp_stream_get_srcpad(stream);
  if (pad == nullptr) return name;
  GstCaps* caps = gst_pad_query_caps(pad, nullptr);
  if (caps != nullptr && gst_caps_get_size(caps) > 0) {
    const gchar* value = gst_structure_get_string(gst_caps_get_structure(caps, 0), "encoding-name");
    if (value != nullptr) name = value;
  }
  if (caps != nullptr) gst_caps_unref(caps);
  gst_object_unref(pad);
  return name;
}

}  // namespace

ReaderAdmission::ReaderAdmission(GstRTSPMedia* media) {
  GstElement* pipeline = PipelineOf(media);
  if (pipeline == nullptr) return;
  for (guint i = 0; i < gst_rtsp_media_n_streams(media); ++i) {
    GstRTSPStream* stream = gst_rtsp_media_get_stream(media, i);
    EntryPointFormat format;
    if (!EntryPointFormatFor(EncodingNameOf(stream), &format)) continue;
    gates_.push_back(std::make_unique<KeyFrameGate>(stream, pipeline, format));
  }
  // The media holds the pipeline, and so outlives the gates.
  gst_object_unref(pipeline);
}

void ReaderAdmission::OnReaderActivating() {
  for (const std::unique_ptr<KeyFrameGate>& gate : gates_) gate->BeginJoin();
}

void ReaderAdmission::OnReaderPlaying(GstRTSPContext* context) {
  for (const std::unique_ptr<KeyFrameGate>& gate : gates_) gate->Hold(context);
}

void ReaderAdmission::OnReaderAbandoned() {
  for (const std::unique_ptr<KeyFrameGate>& gate : gates_) gate->AbandonJoin();
}

KeyFrameGate* ReaderAdmission::GateOf(GstRTSPStream* stream) const {
  for (const std::unique_ptr<KeyFrameGate>& gate : gates_) {
    if (gate->stream() == stream) return gate.get();
  }
  return nullptr;
}

}  // namespace rtsptest::core
