// PrivateFontCache: a fontconfig cache directory of the process's own, for
// machines where fontconfig would find none it can write.
//
// The testpattern plugin's text overlays render through pango, and pango
// through fontconfig. When a font directory has no valid cache (a fresh
// machine, an image built without `fc-cache`) fontconfig scans it and writes
// a cache into the first writable directory of its <cachedir> list:
// /var/cache/fontconfig, $XDG_CACHE_HOME/fontconfig (~/.cache/fontconfig),
// ~/.fontconfig. Where none is writable (a non-root user, a read-only root
// file system, a HOME that does not exist or cannot be written, Bazel's
// sandbox) it prints "Fontconfig error: No writable cache directories" on
// stderr, once per font directory and process, and scans again on every
// start. The server promises nothing but JSON log lines, so it gives
// fontconfig a private cache directory instead.
#ifndef RTSPTEST_SERVER_FONT_CACHE_FONT_CACHE_H_
#define RTSPTEST_SERVER_FONT_CACHE_FONT_CACHE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace rtsptest::server {

class PrivateFontCache {
 public:
  // Asks fontconfig for its cache directories (from the configuration it
  // would load now: FONTCONFIG_FILE, HOME, XDG_CACHE_HOME are honoured). If
  // none of them can be written, creates a private directory under $TMPDIR
  // (else /tmp, /dev/shm, /var/tmp) holding a fonts.conf that includes the
  // configuration fontconfig would have loaded and adds the directory as one
  // more <cachedir>, and points FONTCONFIG_FILE at that file. Returns nullptr
  // when fontconfig can write a cache directory of its own.
  //
  // Call it before anything initialises fontconfig (before gst_init() and
  // before any pipeline exists) and before other threads start: it calls
  // setenv(). Unavailable when no temporary directory can be written.
  static absl::StatusOr<std::unique_ptr<PrivateFontCache>> SetUpIfNeeded();

  // Removes the directory and what fontconfig wrote into it. FONTCONFIG_FILE
  // keeps pointing there, so destroy this only when fonts are no longer used
  // (at exit).
  ~PrivateFontCache();

  PrivateFontCache(const PrivateFontCache&) = delete;
  PrivateFontCache& operator=(const PrivateFontCache&) = delete;

  // The private cache directory; FONTCONFIG_FILE is <dir>/fonts.conf.
  const std::string& dir() const { return dir_; }

 private:
  explicit PrivateFontCache(std::string dir) : dir_(std::move(dir)) {}

  const std::string dir_;
};

}  // namespace rtsptest::server

#endif  // RTSPTEST_SERVER_FONT_CACHE_FONT_CACHE_H_
