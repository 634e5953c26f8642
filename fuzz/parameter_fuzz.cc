// libFuzzer target: the plugin parameter validator, which checks every value
// a config file or CreateStream gives a plugin against its schema.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/plugin_host/parameter_validator.h"
#include "plugins/sdk/rts_plugin.h"

namespace {

const char* const kShapes[] = {"smpte", "ball", "snow", nullptr};

// One spec of each type, ranged and unranged.
const rts_param_spec kSpecs[] = {
    {"width", RTS_PARAM_TYPE_INT, "640", 16, 7680, nullptr, "pixels"},
    {"offset", RTS_PARAM_TYPE_INT, "0", 0, 0, nullptr, "unbounded"},
    {"gain", RTS_PARAM_TYPE_DOUBLE, "1.0", 0.5, 4.0, nullptr, "ratio"},
    {"overlay", RTS_PARAM_TYPE_BOOL, "true", 0, 0, nullptr, "on or off"},
    {"pattern", RTS_PARAM_TYPE_ENUM, "smpte", 0, 0, kShapes, "what to draw"},
    {"label", RTS_PARAM_TYPE_STRING, "", 0, 0, nullptr, "free text"},
    {"uri", RTS_PARAM_TYPE_STRING, nullptr, 0, 0, nullptr, "required"},
};
constexpr size_t kSpecCount = sizeof(kSpecs) / sizeof(kSpecs[0]);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const rts_param_spec& spec = kSpecs[data[0] % kSpecCount];
  std::string value(reinterpret_cast<const char*>(data) + 1, size - 1);
  (void)rtsptest::core::ValidateParameterValue(spec, value);
  (void)rtsptest::core::PrintableValue(value);
  return 0;
}
