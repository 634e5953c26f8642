// Test plugin: rts_plugin_get_descriptor returns a wild pointer. Page 0x1000
// is below the kernel's mmap_min_addr, so it is never mapped.
#include <cstdint>

#include "plugins/sdk/rts_plugin.h"

extern "C" RTS_PLUGIN_EXPORT const rts_plugin_descriptor* rts_plugin_get_descriptor(void) {
  return reinterpret_cast<const rts_plugin_descriptor*>(static_cast<uintptr_t>(0x1008));
}
