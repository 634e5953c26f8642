// The "pipeline" source plugin: any gst-launch description whose payloaders
// are named pay0..payN, e.g.
//   videotestsrc is-live=true ! x264enc tune=zerolatency ! rtph264pay name=pay0 pt=96
//
// This is the escape hatch for sources the other plugins do not cover. The
// author of the description is responsible for live-ness (is-live=true) and
// for keyframes that late readers can start from (config-interval=-1).
#include <gst/gst.h>

#include <string>

#include "plugins/builtin/util/plugin_util.h"
#include "plugins/sdk/rts_plugin.h"

namespace {

using rtsptest::plugins::ErrorSink;

const rts_param_spec kParams[] = {
    {"description", RTS_PARAM_TYPE_STRING, nullptr, 0, 0, nullptr,
     "gst-launch description with payloaders named pay0, pay1, ..."},
};

void* Create(const rts_stream_context* context, char* error_buffer, size_t error_size) {
  const ErrorSink error{error_buffer, error_size};
  const char* description = rts_param_get(context, "description");
  if (description == nullptr || description[0] == '\0') {
    error.Set("pipeline description: empty");
    return nullptr;
  }

  // FATAL_ERRORS turns "no element foo" and unlinkable pads into errors
  // instead of a half-built bin. Ghost pads are not wanted (FALSE): the RTSP
  // media finds the payloaders by name and reads from them directly.
  GError* gerror = nullptr;
  GstParseContext* parse_context = gst_parse_context_new();
  GstElement* bin = gst_parse_bin_from_description_full(description, FALSE, parse_context,
                                                        GST_PARSE_FLAG_FATAL_ERRORS, &gerror);
  gst_parse_context_free(parse_context);
  if (gerror != nullptr) {
    error.Set(std::string("pipeline description: ") + gerror->message);
    g_error_free(gerror);
    if (bin != nullptr) gst_object_unref(gst_object_ref_sink(bin));
    return nullptr;
  }
  if (bin == nullptr) {
    error.Set("pipeline description: could not be parsed");
    return nullptr;
  }

  // gst-rtsp-server finds the streams by name; without pay0 it serves nothing.
  GstElement* pay0 = gst_bin_get_by_name(GST_BIN(bin), "pay0");
  if (pay0 == nullptr) {
    error.Set(
        "pipeline description: no element named \"pay0\" (name the RTP "
        "payloaders pay0, pay1, ...)");
    gst_object_unref(gst_object_ref_sink(bin));
    return nullptr;
  }
  gst_object_unref(pay0);
  // gst_parse_bin_from_description_full returns a floating bin: hand it over.
  return bin;
}

}  // namespace

extern "C" {
RTS_PLUGIN_DEFINE("pipeline", "1.0.0", "Any gst-launch description with payloaders pay0..payN",
                  kParams, Create)
}
