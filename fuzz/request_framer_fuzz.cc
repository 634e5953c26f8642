// libFuzzer target: the request limits every RTSP connection reads through
// (core/listener/request_framer), fed any bytes a client might send. Besides
// memory errors, it checks that the verdict does not depend on how the
// socket cut the bytes into reads: all at once, or in pieces whose size the
// first byte picks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "absl/strings/string_view.h"
#include "core/listener/request_framer.h"

namespace {

using rtsptest::core::LimitViolation;
using rtsptest::core::RequestFramer;
using rtsptest::core::RequestLimits;

// Small limits, so that short inputs reach every verdict.
constexpr RequestLimits kLimits{64, 256, 8, 512};

std::optional<int> Verdict(absl::string_view bytes, size_t piece) {
  RequestFramer framer(kLimits);
  std::optional<LimitViolation> violation;
  for (size_t i = 0; i < bytes.size() && !violation; i += piece) {
    violation = framer.Feed(bytes.substr(i, piece));
  }
  if (!violation) return std::nullopt;
  return violation->status;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 16;
  absl::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (Verdict(bytes, bytes.size() + 1) != Verdict(bytes, piece)) std::abort();
  return 0;
}
