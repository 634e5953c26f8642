// Schema sanity of every plugin built here: ABI version, names, and every
// default valid against its own schema, as the host will check them.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/plugins/plugin_test_util.h"

namespace rtsptest {
namespace testing {
namespace {

// Whether `value` is valid for `spec`, by the rules of rts_plugin.h.
bool ValueIsValid(const rts_param_spec& spec, const std::string& value) {
  const bool bounded = !(spec.min == 0 && spec.max == 0);
  char* end = nullptr;
  switch (spec.type) {
    case RTS_PARAM_TYPE_INT: {
      if (!std::regex_match(value, std::regex("-?[0-9]+"))) return false;
      const double v = std::strtod(value.c_str(), &end);
      return !bounded || (v >= spec.min && v <= spec.max);
    }
    case RTS_PARAM_TYPE_DOUBLE: {
      const double v = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || *end != '\0' || !std::isfinite(v)) return false;
      return !bounded || (v >= spec.min && v <= spec.max);
    }
    case RTS_PARAM_TYPE_BOOL:
      return value == "true" || value == "false";
    case RTS_PARAM_TYPE_STRING:
      return true;
    case RTS_PARAM_TYPE_ENUM:
      for (const char* const* v = spec.allowed_values; v && *v; ++v) {
        if (value == *v) return true;
      }
      return false;
    default:
      return false;
  }
}

class SchemaTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SchemaTest, IsWellFormedWithValidDefaults) {
  std::string error;
  auto plugin = LoadedPlugin::LoadFrom(GetParam(), &error);
  ASSERT_NE(plugin, nullptr) << error;
  const rts_plugin_descriptor& d = plugin->descriptor();
  EXPECT_EQ(d.abi_major, static_cast<uint32_t>(RTS_PLUGIN_ABI_MAJOR));
  EXPECT_LE(d.abi_minor, static_cast<uint32_t>(RTS_PLUGIN_ABI_MINOR));
  ASSERT_NE(d.name, nullptr);
  EXPECT_NE(GetParam().find("/lib" + std::string(d.name) + ".so"), std::string::npos);
  EXPECT_NE(d.version, nullptr);
  EXPECT_NE(d.description, nullptr);
  EXPECT_NE(d.create, nullptr);
  for (void* reserved : d.reserved) EXPECT_EQ(reserved, nullptr);
  std::set<std::string> names;
  for (size_t i = 0; i < d.param_count; ++i) {
    const rts_param_spec& spec = d.params[i];
    ASSERT_NE(spec.name, nullptr);
    EXPECT_TRUE(std::regex_match(spec.name, std::regex("[a-z][a-z0-9_]*"))) << spec.name;
    EXPECT_TRUE(names.insert(spec.name).second) << "duplicate " << spec.name;
    EXPECT_NE(spec.help, nullptr) << spec.name;
    EXPECT_LE(spec.min, spec.max) << spec.name;
    if (spec.type == RTS_PARAM_TYPE_ENUM) {
      EXPECT_NE(spec.allowed_values, nullptr) << spec.name;
    }
    if (spec.default_value != nullptr) {
      EXPECT_TRUE(ValueIsValid(spec, spec.default_value)) << spec.name << "=" << spec.default_value;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Plugins, SchemaTest,
                         ::testing::Values("plugins/libtestpattern.so", "plugins/libfile.so",
                                           "plugins/libpipeline.so",
                                           "plugins/examples/minimal/libsolid.so"),
                         [](const auto& info) {
                           std::string name = info.param;
                           name = name.substr(name.rfind("/lib") + 4);
                           return name.substr(0, name.size() - 3);
                         });

// The config team already writes these names; renaming one breaks configs.
TEST(TestpatternSchemaTest, HasExactlyTheAgreedParameters) {
  std::string error;
  auto plugin = LoadedPlugin::Load("testpattern", &error);
  ASSERT_NE(plugin, nullptr) << error;
  std::vector<std::string> names;
  for (size_t i = 0; i < plugin->descriptor().param_count; ++i) {
    names.push_back(plugin->descriptor().params[i].name);
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"pattern", "width", "height", "fps", "codec", "bitrate_kbps",
                                      "rate_control", "gop", "overlay", "audio", "audio_freq_hz"}));
}

TEST(FileSchemaTest, RequiresLocation) {
  std::string error;
  auto plugin = LoadedPlugin::Load("file", &error);
  ASSERT_NE(plugin, nullptr) << error;
  ASSERT_GE(plugin->descriptor().param_count, 1u);
  EXPECT_STREQ(plugin->descriptor().params[0].name, "location");
  EXPECT_EQ(plugin->descriptor().params[0].default_value, nullptr);
}

}  // namespace
}  // namespace testing
}  // namespace rtsptest
