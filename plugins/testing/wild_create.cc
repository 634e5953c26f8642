// Test plugin: a descriptor of the right ABI whose create points into no
// library (page 0x1000 is never mapped).
#include <cstdint>

#include "plugins/sdk/rts_plugin.h"

namespace {

rts_plugin_descriptor descriptor = {};

}  // namespace

extern "C" RTS_PLUGIN_EXPORT const rts_plugin_descriptor* rts_plugin_get_descriptor(void) {
  descriptor.abi_major = RTS_PLUGIN_ABI_MAJOR;
  descriptor.abi_minor = RTS_PLUGIN_ABI_MINOR;
  descriptor.name = "wild_create";
  descriptor.version = "1.0.0";
  descriptor.description = "Test plugin: create is a wild pointer";
  descriptor.create = reinterpret_cast<rts_create_fn>(static_cast<uintptr_t>(0x1040));
  return &descriptor;
}
