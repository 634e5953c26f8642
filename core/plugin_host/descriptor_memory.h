// Checks that a plugin descriptor can be read at all, before anything reads
// it: rts_plugin_get_descriptor() is plugin code and may return a wild
// pointer, or a struct whose strings, schema or create point into unmapped
// memory. Dereferencing any of those would end the server with SIGSEGV; here
// each is reported instead, naming the field and the address.
//
// Readability is tested with process_vm_readv() on our own process (or, where
// that system call is refused, write() into a pipe): both copy through the
// kernel, which answers EFAULT for an unmapped or unreadable address instead
// of raising a signal. This catches wild pointers, not subtle corruption: a
// garbage pointer that happens to land in mapped memory reads as whatever is
// there, and the ordinary descriptor checks (descriptor_checks.h) judge that.
#ifndef RTSPTEST_CORE_PLUGIN_HOST_DESCRIPTOR_MEMORY_H_
#define RTSPTEST_CORE_PLUGIN_HOST_DESCRIPTOR_MEMORY_H_

#include <cstddef>

#include "absl/status/status.h"
#include "plugins/sdk/rts_plugin.h"

namespace rtsptest::core {

// Whether `size` bytes at `address` can be read without a fault, now.
bool IsReadableMemory(const void* address, size_t size);

// InvalidArgument naming the field and its address when any of these is
// unreadable: the descriptor itself; name, version and description (each a
// NUL-terminated string of at most 4096 bytes); the params array; each
// parameter's name, default_value, help and allowed_values (list and
// strings). Also InvalidArgument when create is set but lies in no loaded
// shared object (dladdr), which a real function always does. NULL fields are
// left to CheckDescriptor, which reports them by name. Call it before
// CheckDescriptor, which assumes readable memory. `descriptor` may be NULL
// (reported as such).
absl::Status CheckDescriptorMemory(const rts_plugin_descriptor* descriptor);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_PLUGIN_HOST_DESCRIPTOR_MEMORY_H_
