// Test plugin: a create that blocks, as one waiting forever on a device or a
// network peer would. It sleeps `sleep_ms` (default 600 s, so that a test
// that leaves it behind still ends), then fails. Built twice, as `hang` and
// `hang_too` (HANG_PLUGIN_NAME), for two different plugins that block.
#include <time.h>

#include "plugins/sdk/rts_plugin.h"

namespace {

const rts_param_spec kParams[] = {
    {"sleep_ms", RTS_PARAM_TYPE_INT, "600000", 0, 3600000, nullptr,
     "how long create blocks, in milliseconds"},
};

void* Create(const rts_stream_context* context, char* error, size_t error_size) {
  long ms = static_cast<long>(rts_param_get_int(context, "sleep_ms"));
  timespec delay = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&delay, &delay) != 0) {
  }
  RTS_PLUGIN_ERROR(error, error_size, "slept %ld ms and built nothing", ms);
  return nullptr;
}

}  // namespace

#ifndef HANG_PLUGIN_NAME
#define HANG_PLUGIN_NAME "hang"
#endif

extern "C" {
RTS_PLUGIN_DEFINE(HANG_PLUGIN_NAME, "1.0.0", "Test plugin: create blocks for sleep_ms", kParams,
                  Create)
}  // extern "C"
