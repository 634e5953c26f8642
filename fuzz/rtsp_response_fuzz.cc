// libFuzzer target: the RTSP reply parser of the health prober, health_probe
// and the bench client (common/rtsp), fed any bytes a server might send.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "common/rtsp/rtsp_response.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  (void)rtsptest::common::ParseRtspResponseHead(text);
  const size_t eol = text.find("\r\n");
  (void)rtsptest::common::ParseRtspStatusLine(text.substr(0, eol));
  return 0;
}
