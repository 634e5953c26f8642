// An example out-of-tree source plugin: a live solid-colour H.264 stream.
// Build it with plain g++ (see docs/plugins.md) and drop libsolid.so into a
// plugin folder; it then serves streams with `plugin: solid`.
#include <gst/gst.h>
#include <stdio.h>

#include "rts_plugin.h"

static const char* const kColors[] = {"red", "green", "blue", "black", "white", NULL};
static const rts_param_spec kParams[] = {
    {"color", RTS_PARAM_TYPE_ENUM, "blue", 0, 0, kColors, "the colour"},
};

static void* Create(const rts_stream_context* context, char* error, size_t error_size) {
  char description[512];
  // pay0 is what the server looks for; is-live and config-interval=-1 let
  // many readers share one stream and start at any keyframe.
  snprintf(description, sizeof(description),
           "videotestsrc is-live=true pattern=%s ! video/x-raw,width=320,"
           "height=240,framerate=15/1 ! x264enc tune=zerolatency "
           "speed-preset=ultrafast key-int-max=15 ! rtph264pay name=pay0 "
           "pt=96 config-interval=-1",
           rts_param_get(context, "color"));
  GError* gerror = NULL;
  GstElement* bin = gst_parse_bin_from_description(description, FALSE, &gerror);
  if (gerror != NULL) {  // The host gets our message, we keep nothing.
    RTS_PLUGIN_ERROR(error, error_size, "solid: %s", gerror->message);
    g_error_free(gerror);
    if (bin != NULL) gst_object_unref(gst_object_ref_sink(bin));
    return NULL;
  }
  return bin;  // Floating; the host takes ownership.
}

RTS_PLUGIN_DEFINE("solid", "1.0.0", "A solid colour, H.264", kParams, Create)
