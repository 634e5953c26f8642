// Test support for the source plugins; see plugin_test_util.h.
#include "tests/plugins/plugin_test_util.h"

#include <dlfcn.h>
#include <gst/app/gstappsink.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>

namespace rtsptest {
namespace testing {

std::string RunfilePath(const std::string& workspace_relative) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  std::string root = srcdir != nullptr ? srcdir : ".";
  return root + "/rtsp_test_server/" + workspace_relative;
}

std::unique_ptr<LoadedPlugin> LoadedPlugin::Load(const std::string& name, std::string* error) {
  return LoadFrom("plugins/lib" + name + ".so", error);
}

std::unique_ptr<LoadedPlugin> LoadedPlugin::LoadFrom(const std::string& workspace_relative,
                                                     std::string* error) {
  const std::string path = RunfilePath(workspace_relative);
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    *error = std::string("dlopen: ") + dlerror();
    return nullptr;
  }
  auto entry = reinterpret_cast<rts_plugin_entry_fn>(dlsym(handle, RTS_PLUGIN_ENTRY_SYMBOL));
  if (entry == nullptr) {
    *error = std::string("dlsym: ") + dlerror();
    return nullptr;
  }
  return std::unique_ptr<LoadedPlugin>(new LoadedPlugin(entry()));
}

std::vector<std::pair<std::string, std::string>> LoadedPlugin::FillParams(
    const std::map<std::string, std::string>& params, std::string* error) const {
  std::vector<std::pair<std::string, std::string>> filled;
  size_t used = 0;
  for (size_t i = 0; i < descriptor_->param_count; ++i) {
    const rts_param_spec& spec = descriptor_->params[i];
    auto it = params.find(spec.name);
    if (it != params.end()) {
      filled.emplace_back(spec.name, it->second);
      ++used;
    } else if (spec.default_value != nullptr) {
      filled.emplace_back(spec.name, spec.default_value);
    } else {
      *error = std::string("parameter ") + spec.name + " is required";
      return {};
    }
  }
  if (used != params.size()) {
    *error = "unknown parameter for plugin " + std::string(descriptor_->name);
    return {};
  }
  return filled;
}

GstElement* LoadedPlugin::Create(const std::map<std::string, std::string>& params,
                                 std::string* error, const std::string& stream_path) const {
  auto filled = FillParams(params, error);
  if (filled.empty() && descriptor_->param_count > 0) return nullptr;
  std::vector<rts_param> abi_params;
  for (const auto& [name, value] : filled) {
    abi_params.push_back({name.c_str(), value.c_str()});
  }
  rts_stream_context context = {};
  context.stream_path = stream_path.c_str();
  context.params = abi_params.data();
  context.param_count = abi_params.size();
  char message[512] = "";
  void* element = descriptor_->create(&context, message, sizeof(message));
  if (element == nullptr) {
    *error = message;
    return nullptr;
  }
  return GST_ELEMENT(gst_object_ref_sink(element));
}

namespace {

struct ChainSpec {
  const char* payloader;
  const char* media;
  const char* chain;  // depayloader ! parser ! decoder ! converter
};

const ChainSpec kChains[] = {
    {"rtph264pay", "video", "rtph264depay ! h264parse ! avdec_h264 ! videoconvert"},
    {"rtph265pay", "video", "rtph265depay ! h265parse ! avdec_h265 ! videoconvert"},
    {"rtpjpegpay", "video", "rtpjpegdepay ! jpegdec ! videoconvert"},
    {"rtpopuspay", "audio", "rtpopusdepay ! opusdec ! audioconvert"},
    {"rtppcmupay", "audio", "rtppcmudepay ! mulawdec ! audioconvert"},
    {"rtppcmapay", "audio", "rtppcmadepay ! alawdec ! audioconvert"},
    {"rtpmp4gpay", "audio", "rtpmp4gdepay ! aacparse ! avdec_aac ! audioconvert"},
};

// Shared between the test thread and GStreamer's streaming threads.
struct RunState {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<DecodedStream> streams;
  std::string error;
  int min_samples = 0;

  bool DoneLocked() const {
    if (!error.empty()) return true;
    for (const auto& stream : streams) {
      if (stream.samples < min_samples) return false;
    }
    return true;
  }
};

struct SinkContext {
  RunState* state;
  size_t index;
};

GstFlowReturn OnSample(GstAppSink* sink, gpointer user_data) {
  auto* context = static_cast<SinkContext*>(user_data);
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (sample == nullptr) return GST_FLOW_EOS;
  const GstStructure* s = gst_caps_get_structure(gst_sample_get_caps(sample), 0);
  {
    std::lock_guard<std::mutex> lock(context->state->mutex);
    DecodedStream& stream = context->state->streams[context->index];
    gst_structure_get_int(s, "width", &stream.width);
    gst_structure_get_int(s, "height", &stream.height);
    gst_structure_get_int(s, "rate", &stream.rate);
    ++stream.samples;
  }
  context->state->changed.notify_all();
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

GstPadProbeReturn OnPayInput(GstPad* pad, GstPadProbeInfo* info, gpointer user_data) {
  auto* context = static_cast<SinkContext*>(user_data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  std::lock_guard<std::mutex> lock(context->state->mutex);
  context->state->streams[context->index].pay_input_pts.push_back(GST_BUFFER_PTS(buffer));
  return GST_PAD_PROBE_OK;
}

GstBusSyncReply OnMessage(GstBus* bus, GstMessage* message, gpointer user_data) {
  auto* state = static_cast<RunState*>(user_data);
  std::string error;
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    error = ErrorMessageText(message);
  } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS) {
    error = "unexpected EOS";
  }
  if (!error.empty()) {
    {
      std::lock_guard<std::mutex> lock(state->mutex);
      if (state->error.empty()) state->error = error;
    }
    state->changed.notify_all();
  }
  return GST_BUS_DROP;
}

}  // namespace

std::string ErrorMessageText(GstMessage* message) {
  GError* gerror = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(message, &gerror, &debug);
  std::string text = std::string("error from ") + GST_OBJECT_NAME(message->src) + ": " +
                     gerror->message + " (" + (debug ? debug : "") + ")";
  g_error_free(gerror);
  g_free(debug);
  return text;
}

DecodeResult DecodeStreams(GstElement* bin, const DecodeOptions& options) {
  DecodeResult result;
  RunState state;
  state.min_samples = options.min_samples;
  std::vector<std::unique_ptr<SinkContext>> contexts;

  GstElement* pipeline = gst_pipeline_new("decode");
  gst_bin_add(GST_BIN(pipeline), bin);  // Takes over the caller's reference.
  for (size_t n = 0;; ++n) {
    const std::string pay_name = "pay" + std::to_string(n);
    GstElement* pay = gst_bin_get_by_name(GST_BIN(bin), pay_name.c_str());
    if (pay == nullptr) break;
    const char* factory = GST_OBJECT_NAME(gst_element_get_factory(pay));
    const ChainSpec* spec = nullptr;
    for (const ChainSpec& candidate : kChains) {
      if (std::string(candidate.payloader) == factory) spec = &candidate;
    }
    if (spec == nullptr) {
      result.error = pay_name + ": no decoder chain for " + factory;
      gst_object_unref(pay);
      break;
    }
    DecodedStream stream;
    stream.payloader = factory;
    stream.media = spec->media;
    state.streams.push_back(stream);
    contexts.push_back(std::make_unique<SinkContext>(SinkContext{&state, n}));

    GError* gerror = nullptr;
    const std::string description = std::string(spec->chain) + " ! appsink name=sink sync=false";
    GstElement* decoder = gst_parse_bin_from_description(description.c_str(), TRUE, &gerror);
    if (gerror != nullptr) {
      result.error = gerror->message;
      g_error_free(gerror);
      gst_object_unref(pay);
      break;
    }
    gst_bin_add(GST_BIN(pipeline), decoder);
    // payN is inside the plugin's bin: expose its src pad on the bin with a
    // ghost pad, as a pad cannot link across a bin boundary directly.
    GstPad* pay_src = gst_element_get_static_pad(pay, "src");
    GstPad* pay_sink = gst_element_get_static_pad(pay, "sink");
    GstPad* decoder_sink = gst_element_get_static_pad(decoder, "sink");
    GstPad* ghost = gst_ghost_pad_new(("src_" + pay_name).c_str(), pay_src);
    gst_pad_set_active(ghost, TRUE);
    gst_element_add_pad(bin, ghost);
    gst_pad_link(ghost, decoder_sink);
    gst_pad_add_probe(pay_sink, GST_PAD_PROBE_TYPE_BUFFER, OnPayInput, contexts.back().get(),
                      nullptr);
    gst_object_unref(decoder_sink);
    gst_object_unref(pay_sink);
    gst_object_unref(pay_src);

    GstElement* sink = gst_bin_get_by_name(GST_BIN(decoder), "sink");
    GstAppSinkCallbacks callbacks = {};
    callbacks.new_sample = OnSample;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, contexts.back().get(), nullptr);
    gst_object_unref(sink);
    gst_object_unref(pay);
  }
  if (result.error.empty() && state.streams.empty()) {
    result.error = "no element named pay0";
  }

  GstBus* bus = gst_element_get_bus(pipeline);
  gst_bus_set_sync_handler(bus, OnMessage, &state, nullptr);
  if (result.error.empty()) {
    if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      std::lock_guard<std::mutex> lock(state.mutex);
      if (state.error.empty()) state.error = "cannot set the pipeline to PLAYING";
    }
    std::unique_lock<std::mutex> lock(state.mutex);
    const bool done = state.changed.wait_for(lock, std::chrono::nanoseconds(options.timeout),
                                             [&state] { return state.DoneLocked(); });
    if (!done) {
      result.error = "timed out; decoded buffers per stream:";
      for (const auto& stream : state.streams) {
        result.error += " " + std::to_string(stream.samples);
      }
    } else {
      result.error = state.error;
    }
  }
  // NULL joins every streaming thread, so nothing touches `state` afterwards.
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  result.ok = result.error.empty();
  result.streams = state.streams;
  return result;
}

}  // namespace testing
}  // namespace rtsptest
