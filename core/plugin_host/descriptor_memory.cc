// Readability checks of a plugin descriptor; see descriptor_memory.h.
#include "core/plugin_host/descriptor_memory.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/plugin_host/descriptor_checks.h"

namespace rtsptest::core {
namespace {

// Longer strings than this in a descriptor are garbage, not text.
constexpr size_t kMaxDescriptorString = 4096;
// Bytes copied per probe: one page, so that a string that ends just before
// an unmapped page is not read across it.
constexpr size_t kPage = 4096;
// Bound on an ENUM's allowed_values list.
constexpr size_t kMaxAllowedValues = 1024;

// write() of the range into a pipe: the kernel copies from our memory and
// answers EFAULT rather than fault. Used only where process_vm_readv is
// refused (e.g. a seccomp profile without it).
bool ReadableThroughPipe(const void* address, size_t size) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return false;
  bool readable = true;
  const char* at = static_cast<const char*>(address);
  char sink[kPage];
  while (size > 0 && readable) {
    size_t chunk = std::min(size, kPage);  // below the pipe's capacity
    ssize_t n = write(fds[1], at, chunk);
    if (n <= 0) {
      readable = false;
      break;
    }
    while (read(fds[0], sink, sizeof(sink)) > 0) {
    }
    at += n;
    size -= static_cast<size_t>(n);
  }
  close(fds[0]);
  close(fds[1]);
  return readable;
}

std::string Address(const void* address) {
  return absl::StrFormat("0x%x", reinterpret_cast<uintptr_t>(address));
}

absl::Status Unreadable(absl::string_view field, const void* address) {
  return absl::InvalidArgumentError(absl::StrCat(field, " points to unreadable memory (",
                                                 Address(address), "): the descriptor is garbage"));
}

// The string at `s` is readable up to its NUL, within kMaxDescriptorString.
absl::Status CheckString(absl::string_view field, const char* s) {
  if (s == nullptr) return absl::OkStatus();  // CheckDescriptor names NULLs
  char buffer[kPage];
  size_t read_so_far = 0;
  while (read_so_far < kMaxDescriptorString) {
    const char* at = s + read_so_far;
    // Up to the end of the page `at` is in, so that one probe never spans
    // into a page the string does not reach.
    size_t chunk = kPage - (reinterpret_cast<uintptr_t>(at) % kPage);
    chunk = std::min(chunk, kMaxDescriptorString - read_so_far);
    if (!IsReadableMemory(at, chunk)) return Unreadable(field, s);
    std::memcpy(buffer, at, chunk);
    if (std::memchr(buffer, '\0', chunk) != nullptr) return absl::OkStatus();
    read_so_far += chunk;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(field, " at ", Address(s), " is not a string of at most ", kMaxDescriptorString,
                   " bytes: the descriptor is garbage"));
}

absl::Status CheckSpecMemory(const rts_param_spec& spec, size_t index) {
  const std::string where = absl::StrCat("params[", index, "]");
  for (auto [field, value] : {std::pair<const char*, const char*>{"name", spec.name},
                              {"default_value", spec.default_value},
                              {"help", spec.help}}) {
    if (absl::Status status = CheckString(absl::StrCat(where, ".", field), value); !status.ok()) {
      return status;
    }
  }
  if (spec.type != RTS_PARAM_TYPE_ENUM || spec.allowed_values == nullptr) return absl::OkStatus();
  for (size_t i = 0; i < kMaxAllowedValues; ++i) {
    const char* const* slot = spec.allowed_values + i;
    if (!IsReadableMemory(slot, sizeof(*slot))) {
      return Unreadable(absl::StrCat(where, ".allowed_values"), spec.allowed_values);
    }
    if (*slot == nullptr) return absl::OkStatus();
    absl::Status status = CheckString(absl::StrCat(where, ".allowed_values[", i, "]"), *slot);
    if (!status.ok()) return status;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(where, ".allowed_values has no NULL within ", kMaxAllowedValues, " entries"));
}

}  // namespace

bool IsReadableMemory(const void* address, size_t size) {
  if (size == 0) return true;
  if (address == nullptr) return false;
  char buffer[kPage];
  const char* at = static_cast<const char*>(address);
  while (size > 0) {
    size_t chunk = std::min(size, sizeof(buffer));
    iovec local = {buffer, chunk};
    iovec remote = {const_cast<char*>(at), chunk};
    ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    if (n < 0) {
      if (errno == EFAULT) return false;
      // ENOSYS or EPERM: the call itself is refused here.
      return ReadableThroughPipe(at, size);
    }
    if (n == 0) return false;
    at += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

absl::Status CheckDescriptorMemory(const rts_plugin_descriptor* descriptor) {
  if (descriptor == nullptr) return absl::OkStatus();  // FromDescriptor reports NULL
  if (!IsReadableMemory(descriptor, sizeof(*descriptor))) {
    return absl::InvalidArgumentError(absl::StrCat(RTS_PLUGIN_ENTRY_SYMBOL "() returned ",
                                                   Address(descriptor),
                                                   ", which is not readable memory"));
  }
  // Another ABI major may lay the rest out differently; CheckDescriptor
  // reports the mismatch without reading further.
  if (!CheckAbiVersion(*descriptor).ok()) return absl::OkStatus();
  for (auto [field, value] :
       {std::pair<const char*, const char*>{"descriptor name", descriptor->name},
        {"descriptor version", descriptor->version},
        {"descriptor description", descriptor->description}}) {
    if (absl::Status status = CheckString(field, value); !status.ok()) return status;
  }
  if (descriptor->create != nullptr) {
    Dl_info info;
    // A real function lies in the text of some loaded object.
    if (dladdr(reinterpret_cast<const void*>(descriptor->create), &info) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("descriptor create points to ",
                       Address(reinterpret_cast<const void*>(descriptor->create)),
                       ", which is in no loaded library: the descriptor is garbage"));
    }
  }
  if (descriptor->params == nullptr || descriptor->param_count == 0) return absl::OkStatus();
  if (descriptor->param_count > kMaxPluginParameters) return absl::OkStatus();  // named later
  if (!IsReadableMemory(descriptor->params, descriptor->param_count * sizeof(rts_param_spec))) {
    return Unreadable(absl::StrCat("descriptor params (", descriptor->param_count, " entries)"),
                      descriptor->params);
  }
  for (size_t i = 0; i < descriptor->param_count; ++i) {
    if (absl::Status status = CheckSpecMemory(descriptor->params[i], i); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace rtsptest::core
