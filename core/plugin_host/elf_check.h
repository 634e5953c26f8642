// A check of a plugin file's ELF headers before dlopen().
//
// dlopen() trusts the file it maps: a truncated library makes the process
// die of SIGBUS when the loader touches a page past the end of the file, and
// a library for another machine fails with a misleading "No such file or
// directory". Reading the headers first turns both into a precise error that
// the plugin loader reports while the server goes on with other plugins.
#ifndef RTSPTEST_CORE_PLUGIN_HOST_ELF_CHECK_H_
#define RTSPTEST_CORE_PLUGIN_HOST_ELF_CHECK_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rtsptest::core {

// Returns OK when `path` is an ELF shared object that this process could map:
// the ELF magic, the class (64- or 32-bit) and data encoding (byte order) of
// this build, ET_DYN, e_machine equal to this build's machine, and a file
// long enough to hold the program header table, every PT_LOAD segment's file
// bytes and the section header table. Otherwise InvalidArgument with the
// reason only (the caller names the file), e.g.
//   "not an ELF file (starts with 23 21 2f 62, not 7f 45 4c 46)"
//   "built for ARM aarch64 (e_machine 183), this server is x86-64"
//   "truncated: 4096 bytes, section headers end at 14608"
// NotFound or PermissionDenied when the file cannot be opened or read.
//
// The file can still change between this check and dlopen(); plugins are
// installed by the operator, so this guards against mistakes, not attacks.
absl::Status CheckElfLibrary(const std::string& path);

// "x86-64", "ARM aarch64", ... for an e_machine value; "an unknown machine"
// for one not in the table.
std::string ElfMachineName(uint16_t machine);

// The e_machine of the machine this server was compiled for.
uint16_t HostElfMachine();

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_PLUGIN_HOST_ELF_CHECK_H_
