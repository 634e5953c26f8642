// SourceMap: where each field of a config came from.
//
// Parsing and semantic validation are separate steps, but an error found by
// the validator ("duplicate listener name") is far more useful when it points
// at the line in the file. The mapper records the position of every field it
// sets, keyed by field path ("streams[2].parameters.fps"); overrides record
// the flag or environment variable that replaced a value; the validator looks
// the path up when it reports an error.
#ifndef RTSPTEST_COMMON_PROTO_YAML_SOURCE_MAP_H_
#define RTSPTEST_COMMON_PROTO_YAML_SOURCE_MAP_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace rtsptest::common {

class SourceMap {
 public:
  // `source_name` is how the file is named in messages, usually its path.
  explicit SourceMap(std::string source_name = "") : source_name_(std::move(source_name)) {}

  const std::string& source_name() const { return source_name_; }

  // Records that `path` was set at the 1-based `line` and `column`.
  void Record(absl::string_view path, int line, int column);

  // "file:line:column" of `path`, or of its nearest recorded ancestor
  // ("listeners[1].name" falls back to "listeners[1]"), which is where a
  // value filled in by a default belongs. Empty when nothing is known.
  std::string Locate(absl::string_view path) const;

  // Forgets `path` and everything under it, and stops Locate() from falling
  // back past it to an ancestor. Called for values an override replaced, so
  // that an error about them never blames the file.
  void Forget(absl::string_view path);

  // As Forget(), and Locate() answers `origin` for `path` and everything
  // under it: how an override gave the value, e.g. "--min_healthy_listeners=9"
  // or "RTSP_TEST_MIN_HEALTHY=9". An empty `origin` is Forget().
  void Attribute(absl::string_view path, absl::string_view origin);

 private:
  struct Position {
    int line;  // 0: not from the file, see Forget() and Attribute()
    int column;
    std::string origin;  // set by Attribute()
  };
  std::string source_name_;
  absl::flat_hash_map<std::string, Position> positions_;
};

// Joins the parts of an error message, leaving out the empty ones:
// "config.yaml:12:7: streams[2].parameters: expected a map, got a sequence".
std::string FormatFieldError(absl::string_view location, absl::string_view path,
                             absl::string_view message);

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_PROTO_YAML_SOURCE_MAP_H_
