// Specs for CheckElfLibrary: damaged copies of a real built plugin, made by
// the test at run time in a temporary directory (truncated, e_machine set to
// another machine's, 32-bit class), and a text file, each give the precise
// reason, never a crash.
#include "core/plugin_host/elf_check.h"

#include <elf.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rtsptest::core {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string GoodPlugin() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".",
                      "/rtsp_test_server/tests/core/plugin_host/fixtures/libgood.so");
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Writes `bytes` to a file named `name` in a fresh directory of this test.
std::string WriteFixture(const std::string& name, const std::string& bytes) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/elf_",
                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = absl::StrCat(dir, "/", name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

Elf64_Ehdr HeaderOf(const std::string& bytes) {
  Elf64_Ehdr header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  return header;
}

void SetHeader(std::string& bytes, const Elf64_Ehdr& header) {
  std::memcpy(bytes.data(), &header, sizeof(header));
}

TEST(ElfCheckTest, AcceptsARealBuiltPlugin) {
  EXPECT_TRUE(CheckElfLibrary(GoodPlugin()).ok()) << CheckElfLibrary(GoodPlugin());
}

TEST(ElfCheckTest, NamesTheHostMachine) {
#if defined(__x86_64__)
  EXPECT_EQ(HostElfMachine(), EM_X86_64);
  EXPECT_EQ(ElfMachineName(HostElfMachine()), "x86-64");
#endif
  EXPECT_EQ(ElfMachineName(EM_AARCH64), "ARM aarch64");
  EXPECT_EQ(ElfMachineName(0xbeef), "an unknown machine");
}

TEST(ElfCheckTest, RejectsALibraryForAnotherMachineNamingBoth) {
  std::string bytes = ReadAll(GoodPlugin());
  Elf64_Ehdr header = HeaderOf(bytes);
  header.e_machine = EM_AARCH64;  // 183
  SetHeader(bytes, header);
  absl::Status status = CheckElfLibrary(WriteFixture("libarm.so", bytes));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), absl::StrCat("built for ARM aarch64 (e_machine 183), this server is ",
                                           ElfMachineName(HostElfMachine())));
}

TEST(ElfCheckTest, RejectsA32BitLibrary) {
  std::string bytes = ReadAll(GoodPlugin());
  bytes[EI_CLASS] = ELFCLASS32;
  absl::Status status = CheckElfLibrary(WriteFixture("lib32.so", bytes));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  const std::string host = ElfMachineName(HostElfMachine());
  EXPECT_EQ(status.message(),
            absl::StrCat("built for 32-bit (ELFCLASS32) ", host, " (e_machine ", HostElfMachine(),
                         "), this server is 64-bit (ELFCLASS64) ", host));
}

TEST(ElfCheckTest, RejectsA32BitArmLibraryNamingItsMachine) {
  std::string bytes = ReadAll(GoodPlugin());
  bytes[EI_CLASS] = ELFCLASS32;
  bytes[18] = EM_ARM;  // e_machine, little-endian: 40
  bytes[19] = 0;
  absl::Status status = CheckElfLibrary(WriteFixture("libarm32.so", bytes));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            absl::StrCat("built for 32-bit (ELFCLASS32) ARM 32-bit (e_machine 40), this server is "
                         "64-bit (ELFCLASS64) ",
                         ElfMachineName(HostElfMachine())));
}

TEST(ElfCheckTest, RejectsABigEndianLibrary) {
  std::string bytes = ReadAll(GoodPlugin());
  bytes[EI_DATA] = ELFDATA2MSB;
  absl::Status status = CheckElfLibrary(WriteFixture("libbig.so", bytes));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "built for big-endian (ELFDATA2MSB), this server is little-endian (ELFDATA2LSB)");
}

TEST(ElfCheckTest, RejectsALibraryTruncatedBeforeItsSectionHeaders) {
  const std::string bytes = ReadAll(GoodPlugin());
  const Elf64_Ehdr header = HeaderOf(bytes);
  ASSERT_GT(bytes.size(), 4096u);
  absl::Status status = CheckElfLibrary(WriteFixture("libcut.so", bytes.substr(0, 4096)));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            absl::StrCat("truncated: 4096 bytes, section headers end at ",
                         header.e_shoff + uint64_t{header.e_shnum} * header.e_shentsize));
}

TEST(ElfCheckTest, RejectsALibraryTruncatedBeforeItsProgramHeadersEnd) {
  const std::string bytes = ReadAll(GoodPlugin());
  const Elf64_Ehdr header = HeaderOf(bytes);
  const uint64_t end = header.e_phoff + uint64_t{header.e_phnum} * header.e_phentsize;
  ASSERT_GT(end, 100u);
  absl::Status status = CheckElfLibrary(WriteFixture("libcut.so", bytes.substr(0, 100)));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), absl::StrCat("truncated: 100 bytes, program headers end at ", end));
}

TEST(ElfCheckTest, RejectsALibraryWhoseLoadedSegmentIsCutShortEvenWithoutSectionHeaders) {
  std::string bytes = ReadAll(GoodPlugin());
  Elf64_Ehdr header = HeaderOf(bytes);
  header.e_shoff = 0;  // as if stripped of its section header table
  header.e_shnum = 0;
  SetHeader(bytes, header);
  absl::Status status = CheckElfLibrary(WriteFixture("libcut.so", bytes.substr(0, 4096)));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), StartsWith("truncated: 4096 bytes, segment "));
  EXPECT_THAT(std::string(status.message()), HasSubstr(" (PT_LOAD) ends at "));
}

TEST(ElfCheckTest, RejectsATextFileNamedLikeALibrary) {
  absl::Status status = CheckElfLibrary(WriteFixture("libfoo.so", "#!/bin/sh\necho hi\n"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "not an ELF file (18 bytes, starts with 23 21 2f 62, not 7f 45 4c 46)");
}

TEST(ElfCheckTest, RejectsAnEmptyFile) {
  absl::Status status = CheckElfLibrary(WriteFixture("libempty.so", ""));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "not an ELF file (0 bytes)");
}

TEST(ElfCheckTest, RejectsAnExecutableAsNotASharedLibrary) {
  std::string bytes = ReadAll(GoodPlugin());
  Elf64_Ehdr header = HeaderOf(bytes);
  header.e_type = ET_EXEC;
  SetHeader(bytes, header);
  absl::Status status = CheckElfLibrary(WriteFixture("libexec.so", bytes));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "not a shared library (e_type 2, expected ET_DYN = 3)");
}

TEST(ElfCheckTest, ReportsAMissingFileAsNotFound) {
  absl::Status status = CheckElfLibrary("/nonexistent/libnothing.so");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "cannot open: No such file or directory");
}

}  // namespace
}  // namespace rtsptest::core
