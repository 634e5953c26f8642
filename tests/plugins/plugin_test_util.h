// Test support for the source plugins: loads lib<name>.so from the test's
// runfiles, creates a stream's bin through the plugin ABI, and decodes what
// its payloaders produce.
//
// The server's own loader is tested elsewhere; this helper deliberately uses
// only dlopen and the ABI header, like any host would.
#ifndef RTSPTEST_TESTS_PLUGINS_PLUGIN_TEST_UTIL_H_
#define RTSPTEST_TESTS_PLUGINS_PLUGIN_TEST_UTIL_H_

#include <gst/gst.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "plugins/sdk/rts_plugin.h"

namespace rtsptest {
namespace testing {

// Absolute path of a file in the runfiles, from its workspace-relative path
// (e.g. "plugins/libfile.so").
std::string RunfilePath(const std::string& workspace_relative);

// A plugin opened with dlopen(RTLD_NOW | RTLD_LOCAL). Never dlclose()d: its
// code runs in GStreamer callbacks for as long as its elements live.
class LoadedPlugin {
 public:
  // Loads <runfiles>/rtsp_test_server/plugins/lib<name>.so. Returns nullptr
  // and sets *error on failure.
  static std::unique_ptr<LoadedPlugin> Load(const std::string& name, std::string* error);
  // Loads the plugin at a workspace-relative runfiles path, e.g.
  // "plugins/examples/minimal/libsolid.so".
  static std::unique_ptr<LoadedPlugin> LoadFrom(const std::string& workspace_relative,
                                                std::string* error);

  const rts_plugin_descriptor& descriptor() const { return *descriptor_; }

  // The schema's default of every parameter, overridden by `params`, in
  // schema order; what a host passes after validation. Unknown names in
  // `params` are an error (returned in *error, result empty).
  std::vector<std::pair<std::string, std::string>> FillParams(
      const std::map<std::string, std::string>& params, std::string* error) const;

  // Calls create for stream `stream_path`. Returns the bin with a full
  // reference (the floating one sunk, as the host does), or nullptr with the
  // plugin's message in *error.
  GstElement* Create(const std::map<std::string, std::string>& params, std::string* error,
                     const std::string& stream_path = "/test") const;

 private:
  explicit LoadedPlugin(const rts_plugin_descriptor* descriptor) : descriptor_(descriptor) {}
  const rts_plugin_descriptor* descriptor_;
};

// What arrived from one payloader payN after depayloading and decoding.
struct DecodedStream {
  std::string payloader;  // Factory name of payN, e.g. "rtph264pay".
  std::string media;      // "video" or "audio".
  int width = 0;          // Video: of the decoded frames.
  int height = 0;
  int rate = 0;     // Audio: sample rate of the decoded samples.
  int samples = 0;  // Decoded buffers that reached the appsink.
  // PTS of every buffer entering payN, in arrival order.
  std::vector<GstClockTime> pay_input_pts;
};

struct DecodeOptions {
  // Stop once every stream decoded this many buffers...
  int min_samples = 10;
  // ...or fail after this long.
  GstClockTime timeout = 10 * GST_SECOND;
};

struct DecodeResult {
  bool ok = false;
  std::string error;                   // Why not ok: an error message, EOS or the timeout.
  std::vector<DecodedStream> streams;  // Indexed by N of payN.
};

// Puts `bin` (a full reference, consumed) in a pipeline, links each payN to
// the matching depayloader ! parser ! decoder ! appsink, plays it until every
// stream decoded options.min_samples buffers, then tears it down.
DecodeResult DecodeStreams(GstElement* bin, const DecodeOptions& options);

// "error from <element>: <message> (<debug>)" for a GST_MESSAGE_ERROR.
std::string ErrorMessageText(GstMessage* message);

}  // namespace testing
}  // namespace rtsptest

#endif  // RTSPTEST_TESTS_PLUGINS_PLUGIN_TEST_UTIL_H_
