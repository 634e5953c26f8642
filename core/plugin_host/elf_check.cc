// ELF header checks before dlopen (see elf_check.h).
#include "core/plugin_host/elf_check.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rtsptest::core {
namespace {

// The ELF class and header types of this build: a 64-bit server can only map
// 64-bit libraries, and a 32-bit one only 32-bit libraries.
#if defined(__LP64__)
constexpr unsigned char kHostClass = ELFCLASS64;
using Ehdr = Elf64_Ehdr;
using Phdr = Elf64_Phdr;
#else
constexpr unsigned char kHostClass = ELFCLASS32;
using Ehdr = Elf32_Ehdr;
using Phdr = Elf32_Phdr;
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr unsigned char kHostData = ELFDATA2LSB;
#else
constexpr unsigned char kHostData = ELFDATA2MSB;
#endif

const char* ClassName(unsigned char elf_class) {
  switch (elf_class) {
    case ELFCLASS32:
      return "32-bit (ELFCLASS32)";
    case ELFCLASS64:
      return "64-bit (ELFCLASS64)";
    default:
      return "an invalid ELF class";
  }
}

const char* DataName(unsigned char data) {
  switch (data) {
    case ELFDATA2LSB:
      return "little-endian (ELFDATA2LSB)";
    case ELFDATA2MSB:
      return "big-endian (ELFDATA2MSB)";
    default:
      return "an invalid data encoding";
  }
}

std::string HexBytes(const unsigned char* bytes, size_t count) {
  std::string text;
  for (size_t i = 0; i < count; ++i) {
    absl::StrAppend(&text, i == 0 ? "" : " ", absl::StrFormat("%02x", bytes[i]));
  }
  return text;
}

// Closes a file descriptor on every return path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Reads exactly `size` bytes at `offset`; false on a short read or error.
bool ReadAt(int fd, uint64_t offset, void* buffer, size_t size) {
  auto* out = static_cast<char*>(buffer);
  while (size > 0) {
    ssize_t n = pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<size_t>(n);
  }
  return true;
}

absl::Status Truncated(uint64_t size, absl::string_view what, uint64_t end) {
  return absl::InvalidArgumentError(
      absl::StrCat("truncated: ", size, " bytes, ", what, " at ", end));
}

// offset + count * entry_size, saturated: a header that overflows is as
// much past the end of the file as a header can be.
uint64_t TableEnd(uint64_t offset, uint64_t count, uint64_t entry_size) {
  const uint64_t kMax = ~uint64_t{0};
  if (entry_size != 0 && count > (kMax - offset) / entry_size) return kMax;
  return offset + count * entry_size;
}

}  // namespace

uint16_t HostElfMachine() {
#if defined(__x86_64__)
  return EM_X86_64;
#elif defined(__aarch64__)
  return EM_AARCH64;
#elif defined(__arm__)
  return EM_ARM;
#elif defined(__i386__)
  return EM_386;
#elif defined(__riscv)
  return EM_RISCV;
#elif defined(__powerpc64__)
  return EM_PPC64;
#elif defined(__s390x__)
  return EM_S390;
#else
#error "HostElfMachine: add this machine's EM_* value"
#endif
}

std::string ElfMachineName(uint16_t machine) {
  switch (machine) {
    case EM_X86_64:
      return "x86-64";
    case EM_AARCH64:
      return "ARM aarch64";
    case EM_ARM:
      return "ARM 32-bit";
    case EM_386:
      return "x86 32-bit";
    case EM_RISCV:
      return "RISC-V";
    case EM_PPC64:
      return "PowerPC 64-bit";
    case EM_S390:
      return "IBM s390";
    case EM_MIPS:
      return "MIPS";
    default:
      return "an unknown machine";
  }
}

absl::Status CheckElfLibrary(const std::string& path) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int error = errno;
    const std::string message = absl::StrCat("cannot open: ", std::strerror(error));
    return error == EACCES ? absl::PermissionDeniedError(message) : absl::NotFoundError(message);
  }
  struct stat info;
  if (fstat(fd.get(), &info) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot stat: ", std::strerror(errno)));
  }
  const uint64_t size = static_cast<uint64_t>(info.st_size);

  unsigned char ident[EI_NIDENT] = {};
  const size_t ident_read = size < EI_NIDENT ? static_cast<size_t>(size) : EI_NIDENT;
  if (!ReadAt(fd.get(), 0, ident, ident_read)) {
    return absl::NotFoundError(absl::StrCat("cannot read: ", std::strerror(errno)));
  }
  if (ident_read < SELFMAG || std::memcmp(ident, ELFMAG, SELFMAG) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not an ELF file (", size, " bytes",
        ident_read == 0 ? ")"
                        : absl::StrCat(", starts with ",
                                       HexBytes(ident, ident_read < SELFMAG ? ident_read : SELFMAG),
                                       ", not 7f 45 4c 46)")));
  }
  if (ident_read < EI_NIDENT) return Truncated(size, "the ELF identification ends", EI_NIDENT);
  if (ident[EI_DATA] != kHostData) {
    return absl::InvalidArgumentError(absl::StrCat("built for ", DataName(ident[EI_DATA]),
                                                   ", this server is ", DataName(kHostData)));
  }
  if (ident[EI_CLASS] != kHostClass) {
    // e_machine sits at the same offset in both classes, so it can still
    // say which machine (an ARM 32-bit board's library, typically).
    std::string machine;
    uint16_t e_machine = 0;
    if (ReadAt(fd.get(), offsetof(Elf32_Ehdr, e_machine), &e_machine, sizeof(e_machine))) {
      machine = absl::StrCat(" ", ElfMachineName(e_machine), " (e_machine ", e_machine, ")");
    }
    return absl::InvalidArgumentError(
        absl::StrCat("built for ", ClassName(ident[EI_CLASS]), machine, ", this server is ",
                     ClassName(kHostClass), " ", ElfMachineName(HostElfMachine())));
  }
  if (size < sizeof(Ehdr)) return Truncated(size, "the ELF header ends", sizeof(Ehdr));
  Ehdr header;
  if (!ReadAt(fd.get(), 0, &header, sizeof(header))) {
    return absl::NotFoundError(absl::StrCat("cannot read: ", std::strerror(errno)));
  }
  if (header.e_machine != HostElfMachine()) {
    return absl::InvalidArgumentError(
        absl::StrCat("built for ", ElfMachineName(header.e_machine), " (e_machine ",
                     header.e_machine, "), this server is ", ElfMachineName(HostElfMachine())));
  }
  if (header.e_type != ET_DYN) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a shared library (e_type ", header.e_type, ", expected ET_DYN = 3)"));
  }
  if (header.e_phnum == 0 || header.e_phentsize != sizeof(Phdr)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad program header table (e_phnum ", header.e_phnum, ", e_phentsize ",
                     header.e_phentsize, ", expected ", sizeof(Phdr), ")"));
  }
  const uint64_t program_headers_end = TableEnd(header.e_phoff, header.e_phnum, header.e_phentsize);
  if (program_headers_end > size)
    return Truncated(size, "program headers end", program_headers_end);
  if (header.e_shoff != 0) {
    const uint64_t section_headers_end =
        TableEnd(header.e_shoff, header.e_shnum, header.e_shentsize);
    if (section_headers_end > size)
      return Truncated(size, "section headers end", section_headers_end);
  }
  // The loader maps each PT_LOAD segment's file bytes; a page of them past
  // the end of the file is what raises SIGBUS.
  std::vector<Phdr> segments(header.e_phnum);
  if (!ReadAt(fd.get(), header.e_phoff, segments.data(), segments.size() * sizeof(Phdr))) {
    return absl::NotFoundError(absl::StrCat("cannot read: ", std::strerror(errno)));
  }
  for (size_t i = 0; i < segments.size(); ++i) {
    if (segments[i].p_type != PT_LOAD) continue;
    const uint64_t end = TableEnd(segments[i].p_offset, 1, segments[i].p_filesz);
    if (end > size) {
      return Truncated(size, absl::StrCat("segment ", i, " (PT_LOAD) ends"), end);
    }
  }
  return absl::OkStatus();
}

}  // namespace rtsptest::core
