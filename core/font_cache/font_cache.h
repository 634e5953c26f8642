// A fontconfig cache directory of the server's own, for machines where
// fontconfig would find none it can write.
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
// fontconfig a cache directory of its own instead.
#ifndef RTSPTEST_CORE_FONT_CACHE_FONT_CACHE_H_
#define RTSPTEST_CORE_FONT_CACHE_FONT_CACHE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rtsptest::core {

// Where EnsureWritableFontCache() may make its directory, in order: $TMPDIR
// (when set), /tmp, /dev/shm (a tmpfs even where the root file system is
// read-only), /var/tmp.
std::vector<std::string> TempDirs();

// Asks fontconfig for its cache directories (from the configuration it would
// load now: FONTCONFIG_FILE, HOME and XDG_CACHE_HOME are honoured). If none
// of them can be written, uses rtsp_test_server-fonts-<uid> under the first
// of `temp_dirs` that allows it, a directory only this user may write,
// kept from run to run like any font cache so that later starts find valid
// caches there. It writes a configuration into it that includes the one
// fontconfig would have loaded and adds the directory as one more
// <cachedir>, and points FONTCONFIG_FILE at that file.
//
// Returns the directory, or "" when fontconfig can write a cache directory
// of its own. Unavailable when no temporary directory can be used.
//
// Call it before anything initialises fontconfig (before gst_init() and
// before any pipeline exists) and before other threads start: it calls
// setenv().
absl::StatusOr<std::string> EnsureWritableFontCache(
    const std::vector<std::string>& temp_dirs = TempDirs());

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_FONT_CACHE_FONT_CACHE_H_
