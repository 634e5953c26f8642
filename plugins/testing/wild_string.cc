// Test plugin: a descriptor of the right ABI whose description points into
// a page mapped without read permission.
#include <sys/mman.h>

#include "plugins/sdk/rts_plugin.h"

namespace {

void* Create(const rts_stream_context*, char* error, size_t error_size) {
  RTS_PLUGIN_ERROR(error, error_size, "never called");
  return nullptr;
}

rts_plugin_descriptor descriptor = {};

}  // namespace

extern "C" RTS_PLUGIN_EXPORT const rts_plugin_descriptor* rts_plugin_get_descriptor(void) {
  void* page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  descriptor.abi_major = RTS_PLUGIN_ABI_MAJOR;
  descriptor.abi_minor = RTS_PLUGIN_ABI_MINOR;
  descriptor.name = "wild_string";
  descriptor.version = "1.0.0";
  descriptor.description = page == MAP_FAILED ? nullptr : static_cast<const char*>(page);
  descriptor.create = Create;
  return &descriptor;
}
