// libFuzzer target: the config file's YAML/JSON mapper, defaults and
// validator (what --config and rtspctl -f read), and the override parser
// (SetFieldFromText, what every flag and RTSP_TEST_* variable goes through).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "common/proto_yaml/proto_yaml_mapper.h"
#include "config/config_loader.h"
#include "config/config_validator.h"
#include "config/overrides.h"
#include "rtsptest/config/v1/config.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  namespace config = rtsptest::config;
  absl::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  // The first byte picks the whole config file (0xff) or a knob of the
  // override table for the text.
  const auto knobs = config::OverrideKnobs();
  const size_t pick = data[0] % knobs.size();
  if (data[0] == 0xff) {
    absl::StatusOr<config::v1::ServerConfig> parsed = config::ParseServerConfig(text, "fuzz.yaml");
    if (parsed.ok()) {
      config::ApplyDefaults(&*parsed);
      (void)config::ConfigValidator().Validate(*parsed);
    }
    return 0;
  }
  // As a flag would set it, applied on top of a two-listener config with a
  // stream, then validated: the path every --flag and RTSP_TEST_* takes.
  config::ConfigOverrides overrides;
  if (overrides.Set(knobs[pick], config::OverrideSource::kFlag, text).ok()) {
    absl::StatusOr<config::v1::ServerConfig> base = config::ParseServerConfig(
        "listeners: [{port: 8554}, {name: b, port: 8555}]\n"
        "streams: [{path: /cam, plugin: testpattern, listeners: [b]}]\n",
        "base.yaml");
    if (base.ok()) {
      config::ApplyOverrides(overrides, &*base);
      config::ApplyDefaults(&*base);
      (void)config::ConfigValidator().Validate(*base);
    }
  }
  (void)rtsptest::common::ParseConfigDuration(text);
  return 0;
}
