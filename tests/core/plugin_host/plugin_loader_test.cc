// Specs for PluginLoader against real shared objects: one tiny fixture .so per
// failure mode (tests/core/plugin_host/fixtures). Each failure test also
// checks that the loader still serves a good plugin afterwards, because the
// server must go on with the other plugins after any bad one.
#include "core/plugin_host/plugin_loader.h"

#include <gst/gst.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rtsptest::core {
namespace server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string FixtureDir() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".",
                      "/rtsp_test_server/tests/core/plugin_host/fixtures");
}

std::string FixturePath(absl::string_view name) {
  return absl::StrCat(FixtureDir(), "/lib", name, ".so");
}

// A fresh, empty directory under TEST_TMPDIR, named after the running test.
std::string MakeTempDir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/",
                   testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void CopyFixture(absl::string_view fixture, const std::string& destination) {
  std::filesystem::copy_file(FixturePath(fixture), destination,
                             std::filesystem::copy_options::overwrite_existing);
}

void Touch(const std::string& path) { std::ofstream(path) << "x"; }

class PluginLoaderTest : public testing::Test {
 protected:
  // Asserts the exact code, the "plugin <name>: " prefix and a substring.
  void ExpectLoadError(absl::string_view name, absl::StatusCode code, absl::string_view substring) {
    absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader_.Load(name);
    ASSERT_FALSE(plugin.ok()) << "plugin " << name << " loaded";
    EXPECT_EQ(plugin.status().code(), code) << plugin.status();
    EXPECT_THAT(std::string(plugin.status().message()),
                StartsWith(absl::StrCat("plugin ", name, ": ")));
    EXPECT_THAT(std::string(plugin.status().message()), HasSubstr(substring));
  }

  // The good plugin loads and creates an element from the same loader.
  void ExpectGoodPluginStillWorks() {
    absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader_.Load("good");
    ASSERT_TRUE(plugin.ok()) << plugin.status();
    absl::StatusOr<GstPtr<GstElement>> element = (*plugin)->CreateElement("/cam1", {});
    ASSERT_TRUE(element.ok()) << element.status();
    EXPECT_NE(element->get(), nullptr);
  }

  PluginLoader loader_{{FixtureDir()}};
};

TEST_F(PluginLoaderTest, LoadsGoodPluginAndCreatesElementWithPay0) {
  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader_.Load("good");
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  EXPECT_EQ((*plugin)->name(), "good");
  EXPECT_EQ((*plugin)->path(), FixturePath("good"));
  EXPECT_STREQ((*plugin)->descriptor().version, "1.0.0");
  EXPECT_EQ((*plugin)->descriptor().param_count, 7u);

  absl::StatusOr<GstPtr<GstElement>> element =
      (*plugin)->CreateElement("/cam1", {{"fps", "15"}, {"live", "off"}});
  ASSERT_TRUE(element.ok()) << element.status();
  ASSERT_TRUE(GST_IS_BIN(element->get()));
  GstPtr<GstElement> pay0(gst_bin_get_by_name(GST_BIN(element->get()), "pay0"));
  EXPECT_NE(pay0, nullptr);
}

TEST_F(PluginLoaderTest, CachesLoadedPluginsByName) {
  absl::StatusOr<std::shared_ptr<const Plugin>> first = loader_.Load("good");
  absl::StatusOr<std::shared_ptr<const Plugin>> second = loader_.Load("good");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->get(), second->get());
}

TEST_F(PluginLoaderTest, ConcurrentFirstLoadsShareOnePlugin) {
  constexpr int kThreads = 8;
  std::vector<const Plugin*> seen(kThreads, nullptr);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([this, &seen, i] {
      absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader_.Load("good");
      if (plugin.ok()) seen[i] = plugin->get();
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_NE(seen[0], nullptr);
  for (const Plugin* plugin : seen) EXPECT_EQ(plugin, seen[0]);
}

TEST_F(PluginLoaderTest, RejectsInvalidPluginNames) {
  for (const char* name : {"", "Good", "../fixtures/good", "good.so", "a b"}) {
    SCOPED_TRACE(name);
    ExpectLoadError(name, absl::StatusCode::kInvalidArgument,
                    "invalid plugin name (must match [a-z0-9_-]+)");
  }
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, ReportsMissingPluginAsNotFoundListingDirectories) {
  PluginLoader loader({FixtureDir(), "/nonexistent/plugins"});
  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader.Load("absent");
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(plugin.status().message(), absl::StrCat("plugin absent: libabsent.so not found in [",
                                                    FixtureDir(), ", /nonexistent/plugins]"));
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, ReportsNotFoundWithNoDirectories) {
  PluginLoader loader({});
  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader.Load("good");
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(plugin.status().message()),
              HasSubstr("no plugin directories configured"));
}

TEST_F(PluginLoaderTest, FirstDirectoryWithTheFileWins) {
  const std::string broken_dir = MakeTempDir();
  CopyFixture("not_shared_object", broken_dir + "/libgood.so");

  PluginLoader broken_first({broken_dir, FixtureDir()});
  absl::StatusOr<std::shared_ptr<const Plugin>> broken = broken_first.Load("good");
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(broken.status().message()), HasSubstr(broken_dir));

  PluginLoader good_first({FixtureDir(), broken_dir});
  absl::StatusOr<std::shared_ptr<const Plugin>> good = good_first.Load("good");
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ((*good)->path(), FixturePath("good"));
}

TEST_F(PluginLoaderTest, RejectsFileThatIsNotASharedObject) {
  // Caught by the ELF header check before dlopen; the path is named.
  ExpectLoadError("not_shared_object", absl::StatusCode::kInvalidArgument,
                  absl::StrCat(FixturePath("not_shared_object"), ": not an ELF file ("));
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, RejectsUnresolvedSymbolsAtLoadTime) {
  ExpectLoadError("undefined_symbol", absl::StatusCode::kInvalidArgument,
                  "undefined symbol: rts_fixture_symbol_that_does_not_exist");
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, RejectsLibraryWithoutEntryPoint) {
  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader_.Load("no_entry_point");
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(plugin.status().message()),
              HasSubstr(absl::StrCat(FixturePath("no_entry_point"),
                                     ": does not export rts_plugin_get_descriptor")));
  EXPECT_THAT(std::string(plugin.status().message()),
              HasSubstr("undefined symbol: rts_plugin_get_descriptor"));
  EXPECT_THAT(std::string(plugin.status().message()), Not(HasSubstr("mangled")));
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, ExplainsCxxMangledEntryPoint) {
  ExpectLoadError("mangled_entry_point", absl::StatusCode::kUnimplemented,
                  "exports the C++-mangled name instead: wrap RTS_PLUGIN_DEFINE "
                  "in extern \"C\"");
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, RejectsEntryPointReturningNull) {
  ExpectLoadError("null_descriptor", absl::StatusCode::kInvalidArgument,
                  "rts_plugin_get_descriptor() returned NULL");
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, RejectsAbiMajorMismatch) {
  ExpectLoadError("abi_major_mismatch", absl::StatusCode::kFailedPrecondition,
                  absl::StrCat(FixturePath("abi_major_mismatch"),
                               ": ABI 2.0, host supports 1.0 (major must match)"));
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, RejectsNewerAbiMinor) {
  ExpectLoadError("abi_minor_newer", absl::StatusCode::kFailedPrecondition,
                  "ABI 1.1, host supports 1.0 (minor is newer than the host");
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, RejectsDescriptorNameDifferentFromFileName) {
  ExpectLoadError("name_mismatch", absl::StatusCode::kInvalidArgument,
                  "descriptor name 'someone_else' does not match the file name "
                  "(libname_mismatch.so)");
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, RejectsSchemaWithDuplicateParameter) {
  ExpectLoadError("schema_duplicate_param", absl::StatusCode::kInvalidArgument,
                  "parameter 'fps' is declared twice");
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, RejectsSchemaWithNullParameterName) {
  ExpectLoadError("schema_null_param_name", absl::StatusCode::kInvalidArgument,
                  "parameter #1 has a NULL name");
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, RejectsSchemaWithInvalidParameterName) {
  ExpectLoadError("schema_invalid_param_name", absl::StatusCode::kInvalidArgument,
                  "parameter 'Frame-Rate': name must match [a-z][a-z0-9_]*");
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, RejectsSchemaWithUnspecifiedType) {
  ExpectLoadError("schema_unspecified_type", absl::StatusCode::kInvalidArgument,
                  "parameter 'gain': type is unspecified");
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, RejectsSchemaWithEnumWithoutAllowedValues) {
  ExpectLoadError("schema_enum_without_values", absl::StatusCode::kInvalidArgument,
                  "parameter 'codec': type ENUM needs a non-empty allowed_values");
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, RejectsSchemaWithDefaultFailingItsOwnValidation) {
  ExpectLoadError("schema_bad_default", absl::StatusCode::kInvalidArgument,
                  "parameter 'bitrate': default value '0' is invalid: must be "
                  "in 100..20000");
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, RejectsSchemaWithMinAboveMax) {
  ExpectLoadError("schema_min_above_max", absl::StatusCode::kInvalidArgument,
                  "parameter 'gop': min 60 is greater than max 1");
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, RejectsDescriptorWithoutCreate) {
  ExpectLoadError("schema_no_create", absl::StatusCode::kInvalidArgument,
                  "descriptor has no create function");
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, ReportsCreateFailureWithPluginMessage) {
  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader_.Load("create_fails");
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  absl::StatusOr<GstPtr<GstElement>> element = (*plugin)->CreateElement("/cam1", {});
  EXPECT_EQ(element.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(element.status().message(),
            "stream /cam1: plugin create_fails: create failed: camera /cam1 "
            "is unplugged");
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, RejectsBinWithoutPay0) {
  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader_.Load("no_pay0");
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  absl::StatusOr<GstPtr<GstElement>> element = (*plugin)->CreateElement("/cam1", {});
  EXPECT_EQ(element.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(element.status().message(),
            "stream /cam1: plugin no_pay0: create returned an element that has "
            "no payloader named pay0");
  ExpectGoodPluginStillWorks();
}

TEST_F(PluginLoaderTest, RetriesFailedLoadsBecauseFailuresAreNotCached) {
  const std::string dir = MakeTempDir();
  PluginLoader loader({dir});
  EXPECT_EQ(loader.Load("good").status().code(), absl::StatusCode::kNotFound);

  CopyFixture("good", dir + "/libgood.so");
  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader.Load("good");
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  EXPECT_EQ((*plugin)->path(), dir + "/libgood.so");
}

TEST_F(PluginLoaderTest, ListsAvailablePluginsSortedAndUnique) {
  PluginLoader loader({FixtureDir(), "/nonexistent/plugins", FixtureDir()});
  EXPECT_THAT(loader.ListAvailable(),
              ElementsAre("abi_major_mismatch", "abi_minor_newer", "create_fails", "good",
                          "mangled_entry_point", "name_mismatch", "no_entry_point", "no_pay0",
                          "not_shared_object", "null_descriptor", "schema_bad_default",
                          "schema_duplicate_param", "schema_enum_without_values",
                          "schema_invalid_param_name", "schema_min_above_max", "schema_no_create",
                          "schema_null_param_name", "schema_unspecified_type", "undefined_symbol"));
}

TEST_F(PluginLoaderTest, ListAvailableSkipsFilesThatAreNotPlugins) {
  const std::string dir = MakeTempDir();
  Touch(dir + "/libok.so");
  Touch(dir + "/libother-ok.so");
  Touch(dir + "/README");
  Touch(dir + "/libversioned.so.1");
  Touch(dir + "/libUpper.so");
  Touch(dir + "/lib.so");
  Touch(dir + "/ok.so");
  std::filesystem::create_directory(dir + "/libdirectory.so");
  std::filesystem::create_symlink(dir + "/libok.so", dir + "/liblink.so");

  PluginLoader loader({dir});
  EXPECT_THAT(loader.ListAvailable(), ElementsAre("link", "ok", "other-ok"));
}

// Damaged copies of the good plugin, made at run time in a temporary
// directory searched before the fixtures: each is rejected before dlopen
// with the precise reason (a truncated file used to end the process with
// SIGBUS, an ARM one was "No such file or directory"), and the good plugin
// still loads from the same loader.
std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST(PluginLoaderElfTest, RejectsATruncatedLibraryBeforeDlopenInsteadOfCrashing) {
  const std::string dir = MakeTempDir();
  const std::string path = absl::StrCat(dir, "/libcut.so");
  WriteFile(path, ReadFile(FixturePath("good")).substr(0, 4096));
  PluginLoader loader({dir, FixtureDir()});
  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader.Load("cut");
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(plugin.status().message()),
              StartsWith(absl::StrCat("plugin cut: ", path,
                                      ": truncated: 4096 bytes, section headers end at ")));
  EXPECT_TRUE(loader.Load("good").ok());
}

TEST(PluginLoaderElfTest, RejectsALibraryBuiltForAarch64NamingBothMachines) {
  const std::string dir = MakeTempDir();
  const std::string path = absl::StrCat(dir, "/libarm.so");
  std::string bytes = ReadFile(FixturePath("good"));
  bytes[18] = static_cast<char>(183);  // e_machine, little-endian: EM_AARCH64
  bytes[19] = 0;
  WriteFile(path, bytes);
  PluginLoader loader({dir, FixtureDir()});
  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader.Load("arm");
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument);
#if defined(__x86_64__)
  EXPECT_EQ(plugin.status().message(),
            absl::StrCat("plugin arm: ", path,
                         ": built for ARM aarch64 (e_machine 183), this server is x86-64"));
#endif
  EXPECT_TRUE(loader.Load("good").ok());
}

TEST(PluginLoaderElfTest, RejectsATextFileNamedLikeALibraryAsNotAnElfFile) {
  const std::string dir = MakeTempDir();
  const std::string path = absl::StrCat(dir, "/libfoo.so");
  WriteFile(path, "not a library\n");
  PluginLoader loader({dir, FixtureDir()});
  absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader.Load("foo");
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plugin.status().message(),
            absl::StrCat("plugin foo: ", path,
                         ": not an ELF file (14 bytes, starts with 6e 6f 74 20, not 7f 45 4c 46)"));
  EXPECT_TRUE(loader.Load("good").ok());
}

}  // namespace
}  // namespace server
}  // namespace rtsptest::core
