// EnsureWritableFontCache: fontconfig's cache directories, checked and, if
// need be, supplemented (see font_cache.h).
#include "core/font_cache/font_cache.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rtsptest::core {
namespace {

// Whether fontconfig can surely write a cache file into `dir`: the test it
// makes first. It would also try to create a missing directory, which may or
// may not work (it leaves a nonexistent $HOME alone, /proc refuses, ...), so
// a missing one counts as not writable. Erring that way only costs a cache
// directory of ours that goes unused: fontconfig writes into the first
// writable directory of its list, and ours comes last.
bool FontconfigCanWrite(const std::string& dir) { return access(dir.c_str(), W_OK) == 0; }

struct FontconfigPaths {
  std::string config_file;  // what fontconfig would load; "" if none
  std::vector<std::string> cache_dirs;
};

// libfontconfig, opened for one query and closed again. The server needs
// fontconfig only when a text overlay draws through pango, which loads it
// then; linking it would keep it and its libraries (FreeType, libpng,
// expat, brotli: 0.7 MB of resident memory, measured) in every process. The
// declarations are fontconfig's (fontconfig.h), of the functions used here.
class Fontconfig {
  // First: the function pointers below are initialised from it.
  void* const handle_;

 public:
  using FcChar8 = unsigned char;
  struct FcConfig;
  struct FcStrList;

  Fontconfig() : handle_(dlopen("libfontconfig.so.1", RTLD_NOW | RTLD_LOCAL)) {}
  ~Fontconfig() {
    if (handle_ != nullptr) dlclose(handle_);
  }
  Fontconfig(const Fontconfig&) = delete;
  Fontconfig& operator=(const Fontconfig&) = delete;

  FcConfig* (*const InitLoadConfig)() = Function<FcConfig*()>("FcInitLoadConfig");
  FcChar8* (*const ConfigGetFilename)(FcConfig*, const FcChar8*) =
      Function<FcChar8*(FcConfig*, const FcChar8*)>("FcConfigGetFilename");
  FcStrList* (*const ConfigGetCacheDirs)(FcConfig*) =
      Function<FcStrList*(FcConfig*)>("FcConfigGetCacheDirs");
  FcChar8* (*const StrListNext)(FcStrList*) = Function<FcChar8*(FcStrList*)>("FcStrListNext");
  void (*const StrListDone)(FcStrList*) = Function<void(FcStrList*)>("FcStrListDone");
  void (*const StrFree)(FcChar8*) = Function<void(FcChar8*)>("FcStrFree");
  void (*const ConfigDestroy)(FcConfig*) = Function<void(FcConfig*)>("FcConfigDestroy");

  // Whether the library and every function above were found.
  bool ok() const {
    return InitLoadConfig && ConfigGetFilename && ConfigGetCacheDirs && StrListNext &&
           StrListDone && StrFree && ConfigDestroy;
  }

 private:
  template <typename F>
  F* Function(const char* name) const {
    return handle_ == nullptr ? nullptr : reinterpret_cast<F*>(dlsym(handle_, name));
  }
};

// Loads fontconfig's configuration into a private FcConfig, which scans no
// font and writes nothing, and reads the file name and cache directories
// from it. The process's current configuration must stay uninitialised,
// since it would keep the FONTCONFIG_FILE it was loaded with: hence no call
// that takes a null FcConfig (FcConfigFilename(NULL) initialises it).
// Nothing to report where fontconfig is not installed.
FontconfigPaths QueryFontconfig() {
  FontconfigPaths paths;
  const Fontconfig fc;
  if (!fc.ok()) return paths;
  Fontconfig::FcConfig* config = fc.InitLoadConfig();
  if (config == nullptr) return paths;
  if (Fontconfig::FcChar8* file = fc.ConfigGetFilename(config, nullptr)) {
    paths.config_file = reinterpret_cast<const char*>(file);
    fc.StrFree(file);
  }
  if (Fontconfig::FcStrList* dirs = fc.ConfigGetCacheDirs(config)) {
    while (Fontconfig::FcChar8* dir = fc.StrListNext(dirs)) {
      paths.cache_dirs.emplace_back(reinterpret_cast<const char*>(dir));
    }
    fc.StrListDone(dirs);
  }
  fc.ConfigDestroy(config);
  return paths;
}

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// rtsp_test_server-fonts-<uid> under the first of `bases` where it exists or
// can be made, and is a directory (not a link) that this user owns and
// nobody else may write: the name is predictable, so anyone could have made
// it first.
absl::StatusOr<std::string> OwnCacheDir(const std::vector<std::string>& bases) {
  const uid_t uid = geteuid();
  for (const std::string& base : bases) {
    std::string dir = absl::StrCat(base, "/rtsp_test_server-fonts-", uid);
    mkdir(dir.c_str(), 0700);
    struct stat st;
    if (lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid &&
        (st.st_mode & 022) == 0 && access(dir.c_str(), W_OK) == 0) {
      return dir;
    }
  }
  return absl::UnavailableError(absl::StrCat(
      "no writable temporary directory for a font cache (tried ", absl::StrJoin(bases, ", "), ")"));
}

}  // namespace

std::vector<std::string> TempDirs() {
  std::vector<std::string> dirs;
  if (const char* tmpdir = std::getenv("TMPDIR"); tmpdir != nullptr && *tmpdir != '\0') {
    dirs.emplace_back(tmpdir);
  }
  for (const char* dir : {"/tmp", "/dev/shm", "/var/tmp"}) dirs.emplace_back(dir);
  return dirs;
}

absl::StatusOr<std::string> EnsureWritableFontCache(const std::vector<std::string>& temp_dirs) {
  FontconfigPaths paths = QueryFontconfig();
  for (const std::string& dir : paths.cache_dirs) {
    if (FontconfigCanWrite(dir)) return std::string();
  }
  // Without a configuration file fontconfig falls back to built-in defaults
  // that a file of ours could not include; it complains about the missing
  // file on its own then, and a cache directory would not change that.
  if (paths.config_file.empty()) return std::string();

  absl::StatusOr<std::string> dir = OwnCacheDir(temp_dirs);
  if (!dir.ok()) return dir.status();
  // One file per included configuration, since processes started with
  // different FONTCONFIG_FILEs may share the directory. Written aside and
  // renamed, so that a process starting meanwhile never reads half a file.
  const std::string file = absl::StrCat(
      *dir, "/fonts-", absl::Hex(std::hash<std::string>()(paths.config_file)), ".conf");
  const std::string partial = absl::StrCat(file, ".", getpid());
  {
    std::ofstream out(partial);
    // The included file keeps its own <cachedir>s, which fontconfig still
    // reads caches from (an image's `fc-cache` output, for one); it writes
    // into the first writable directory, which is this one.
    out << "<?xml version=\"1.0\"?>\n"
        << "<!DOCTYPE fontconfig SYSTEM \"urn:fontconfig:fonts.dtd\">\n"
        << "<!-- Written by rtsp_test_server: no cache directory of the configuration below "
           "was writable. -->\n"
        << "<fontconfig>\n"
        << "  <include ignore_missing=\"no\">" << XmlEscape(paths.config_file) << "</include>\n"
        << "  <cachedir>" << XmlEscape(*dir) << "</cachedir>\n"
        << "</fontconfig>\n";
    out.close();
    if (!out || std::rename(partial.c_str(), file.c_str()) != 0) {
      std::remove(partial.c_str());
      return absl::UnavailableError(absl::StrCat("cannot write ", file));
    }
  }
  setenv("FONTCONFIG_FILE", file.c_str(), 1);
  return *dir;
}

}  // namespace rtsptest::core
