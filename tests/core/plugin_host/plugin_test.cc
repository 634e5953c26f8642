// Specs for Plugin with descriptors defined in the test itself: the schema
// checks that reject a plugin at load time, the parameter rules applied to
// every stream, and what CreateElement passes to and accepts from create.
// (Loading real .so files is covered by plugin_loader_test.)
#include "core/plugin_host/plugin.h"

#include <gst/gst.h>

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "plugins/sdk/rts_plugin.h"

namespace rtsptest::core {
namespace server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// What the last create call received; tests run on one thread.
struct CreateCall {
  int count = 0;
  std::string stream_path;
  std::vector<std::pair<std::string, std::string>> params;
};
CreateCall g_create_call;

void Record(const rts_stream_context* context) {
  ++g_create_call.count;
  g_create_call.stream_path = context->stream_path;
  g_create_call.params.clear();
  for (size_t i = 0; i < context->param_count; ++i) {
    g_create_call.params.emplace_back(context->params[i].name, context->params[i].value);
  }
}

// A bin with an identity element standing in for the payloader.
void* CreateBinWithPay0(const rts_stream_context* context, char*, size_t) {
  Record(context);
  GstElement* bin = gst_bin_new(nullptr);
  gst_bin_add(GST_BIN(bin), gst_element_factory_make("identity", "pay0"));
  return bin;
}

void* CreateNestedPay0(const rts_stream_context* context, char*, size_t) {
  GstElement* outer = gst_bin_new(nullptr);
  GstElement* inner = gst_bin_new("inner");
  gst_bin_add(GST_BIN(inner), gst_element_factory_make("identity", "pay0"));
  gst_bin_add(GST_BIN(outer), inner);
  return outer;
}

void* CreateLonePay0(const rts_stream_context*, char*, size_t) {
  return gst_element_factory_make("identity", "pay0");
}

void* CreateLoneElement(const rts_stream_context*, char*, size_t) {
  return gst_element_factory_make("identity", "payload");
}

void* CreateNotAnElement(const rts_stream_context*, char*, size_t) {
  return g_object_new(G_TYPE_OBJECT, nullptr);
}

void* CreateFailsSilently(const rts_stream_context*, char*, size_t) { return nullptr; }

const char* const kCodecs[] = {"h264", "h265", "mjpeg", nullptr};

// Shaped like the real testpattern plugin, so messages read like real ones.
const rts_param_spec kTestPatternParams[] = {
    {"width", RTS_PARAM_TYPE_INT, "640", 16, 4096, nullptr, "frame width"},
    {"height", RTS_PARAM_TYPE_INT, "480", 16, 4096, nullptr, "frame height"},
    {"fps", RTS_PARAM_TYPE_INT, "30", 1, 120, nullptr, "frames per second"},
    {"codec", RTS_PARAM_TYPE_ENUM, "h264", 0, 0, kCodecs, "encoder"},
    {"speed", RTS_PARAM_TYPE_DOUBLE, "1.0", 0.25, 4, nullptr, "pattern speed"},
    {"overlay", RTS_PARAM_TYPE_BOOL, "off", 0, 0, nullptr, "clock overlay"},
    {"title", RTS_PARAM_TYPE_STRING, "", 0, 0, nullptr, nullptr},
    {"offset", RTS_PARAM_TYPE_INT, "0", 0, 0, nullptr, "unbounded integer"},
};

rts_plugin_descriptor TestPatternDescriptor() {
  return rts_plugin_descriptor{RTS_PLUGIN_ABI_MAJOR,
                               RTS_PLUGIN_ABI_MINOR,
                               "testpattern",
                               "1.0.0",
                               "test descriptor",
                               kTestPatternParams,
                               sizeof(kTestPatternParams) / sizeof(kTestPatternParams[0]),
                               CreateBinWithPay0,
                               {}};
}

const rts_param_spec kFileParams[] = {
    {"location", RTS_PARAM_TYPE_STRING, nullptr, 0, 0, nullptr, "required"},
};

// Descriptors must outlive their Plugin; each test keeps its own here.
class PluginTest : public testing::Test {
 protected:
  void SetUp() override { g_create_call = CreateCall(); }

  // Wraps `descriptor` (copied into the fixture) as plugin `name`.
  absl::StatusOr<std::unique_ptr<Plugin>> Wrap(const rts_plugin_descriptor& descriptor) {
    descriptor_ = descriptor;
    return Plugin::FromDescriptor(descriptor_.name != nullptr ? descriptor_.name : "unnamed",
                                  "/plugins/lib.so", &descriptor_);
  }

  std::unique_ptr<Plugin> MustWrap(const rts_plugin_descriptor& descriptor) {
    absl::StatusOr<std::unique_ptr<Plugin>> plugin = Wrap(descriptor);
    EXPECT_TRUE(plugin.ok()) << plugin.status();
    return plugin.ok() ? *std::move(plugin) : nullptr;
  }

  // One stream parameter through the testpattern schema.
  absl::StatusOr<ParameterList> ValidateOne(const std::string& name, const std::string& value) {
    std::unique_ptr<Plugin> plugin = MustWrap(TestPatternDescriptor());
    return plugin->ValidateParameters("/cam1", {{name, value}});
  }

  // The canonical value of one parameter, or the error message.
  std::string CanonicalOrError(const std::string& name, const std::string& value) {
    absl::StatusOr<ParameterList> params = ValidateOne(name, value);
    if (!params.ok()) return std::string(params.status().message());
    for (const auto& [param, canonical] : *params) {
      if (param == name) return canonical;
    }
    return "(missing)";
  }

  void ExpectSchemaError(const rts_plugin_descriptor& descriptor, absl::string_view substring) {
    absl::StatusOr<std::unique_ptr<Plugin>> plugin = Wrap(descriptor);
    ASSERT_FALSE(plugin.ok());
    EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument) << plugin.status();
    EXPECT_THAT(std::string(plugin.status().message()),
                HasSubstr(absl::StrCat("plugin testpattern: /plugins/lib.so: ", substring)));
  }

  rts_plugin_descriptor descriptor_ = {};
};

// ---- Load-time schema checks -----------------------------------------------

TEST_F(PluginTest, AcceptsValidDescriptor) {
  std::unique_ptr<Plugin> plugin = MustWrap(TestPatternDescriptor());
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(plugin->name(), "testpattern");
  EXPECT_EQ(plugin->path(), "/plugins/lib.so");
  EXPECT_EQ(&plugin->descriptor(), &descriptor_);
}

TEST_F(PluginTest, RejectsNullDescriptor) {
  absl::StatusOr<std::unique_ptr<Plugin>> plugin = Plugin::FromDescriptor("x", "", nullptr);
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plugin.status().message(), "plugin x: rts_plugin_get_descriptor() returned NULL");
}

TEST_F(PluginTest, RejectsAbiMajorMismatchBeforeReadingOtherFields) {
  // A major-2 struct may be laid out differently: nothing past the version
  // may be trusted, so a NULL name must not even be looked at.
  rts_plugin_descriptor descriptor = {};
  descriptor.abi_major = RTS_PLUGIN_ABI_MAJOR + 1;
  absl::StatusOr<std::unique_ptr<Plugin>> plugin =
      Plugin::FromDescriptor("future", "", &descriptor);
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(plugin.status().message(),
            "plugin future: ABI 2.0, host supports 1.0 (major must match)");
}

TEST_F(PluginTest, RejectsNullName) {
  rts_plugin_descriptor descriptor = TestPatternDescriptor();
  descriptor.name = nullptr;
  absl::StatusOr<std::unique_ptr<Plugin>> plugin =
      Plugin::FromDescriptor("testpattern", "", &descriptor);
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(plugin.status().message()), HasSubstr("descriptor name is NULL"));
}

TEST_F(PluginTest, RejectsNullVersionAndDescription) {
  rts_plugin_descriptor descriptor = TestPatternDescriptor();
  descriptor.version = nullptr;
  ExpectSchemaError(descriptor, "descriptor version is NULL");
  descriptor = TestPatternDescriptor();
  descriptor.description = nullptr;
  ExpectSchemaError(descriptor, "descriptor description is NULL");
}

TEST_F(PluginTest, RejectsParamsNullWithNonZeroCount) {
  rts_plugin_descriptor descriptor = TestPatternDescriptor();
  descriptor.params = nullptr;
  ExpectSchemaError(descriptor, "param_count is 8 but params is NULL");
}

TEST_F(PluginTest, RejectsImplausibleParameterCount) {
  rts_plugin_descriptor descriptor = TestPatternDescriptor();
  descriptor.param_count = 100000;
  ExpectSchemaError(descriptor, "param_count 100000 exceeds the limit of 256");
}

TEST_F(PluginTest, RejectsUnknownParameterType) {
  rts_param_spec spec = {"gain", static_cast<rts_param_type>(42), nullptr, 0, 0, nullptr, nullptr};
  rts_plugin_descriptor descriptor = TestPatternDescriptor();
  descriptor.params = &spec;
  descriptor.param_count = 1;
  ExpectSchemaError(descriptor, "parameter 'gain': unknown type 42");
}

TEST_F(PluginTest, RejectsNanBounds) {
  rts_param_spec spec = {
      "gain", RTS_PARAM_TYPE_DOUBLE, nullptr, std::numeric_limits<double>::quiet_NaN(), 1, nullptr,
      nullptr};
  rts_plugin_descriptor descriptor = TestPatternDescriptor();
  descriptor.params = &spec;
  descriptor.param_count = 1;
  ExpectSchemaError(descriptor, "parameter 'gain': min and max must be numbers");
}

TEST_F(PluginTest, RejectsEnumDefaultOutsideAllowedValues) {
  rts_param_spec spec = {"codec", RTS_PARAM_TYPE_ENUM, "vp9", 0, 0, kCodecs, nullptr};
  rts_plugin_descriptor descriptor = TestPatternDescriptor();
  descriptor.params = &spec;
  descriptor.param_count = 1;
  ExpectSchemaError(descriptor,
                    "parameter 'codec': default value 'vp9' is invalid: must "
                    "be one of h264, h265, mjpeg");
}

TEST_F(PluginTest, RejectsParameterNameStartingWithDigit) {
  rts_param_spec spec = {"2pass", RTS_PARAM_TYPE_BOOL, "false", 0, 0, nullptr, nullptr};
  rts_plugin_descriptor descriptor = TestPatternDescriptor();
  descriptor.params = &spec;
  descriptor.param_count = 1;
  ExpectSchemaError(descriptor, "parameter '2pass': name must match [a-z][a-z0-9_]*");
}

// ---- Parameter validation --------------------------------------------------

TEST_F(PluginTest, FillsDefaultsInSchemaOrderAndCanonicalForm) {
  std::unique_ptr<Plugin> plugin = MustWrap(TestPatternDescriptor());
  absl::StatusOr<ParameterList> params = plugin->ValidateParameters("/cam1", {});
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_THAT(*params,
              ElementsAre(Pair("width", "640"), Pair("height", "480"), Pair("fps", "30"),
                          Pair("codec", "h264"), Pair("speed", "1.0"), Pair("overlay", "false"),
                          Pair("title", ""), Pair("offset", "0")));
}

TEST_F(PluginTest, KeepsGivenValuesInSchemaOrder) {
  std::unique_ptr<Plugin> plugin = MustWrap(TestPatternDescriptor());
  absl::StatusOr<ParameterList> params =
      plugin->ValidateParameters("/cam1", {{"title", "lobby"}, {"fps", "25"}, {"codec", "mjpeg"}});
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_THAT(*params,
              ElementsAre(Pair("width", "640"), Pair("height", "480"), Pair("fps", "25"),
                          Pair("codec", "mjpeg"), Pair("speed", "1.0"), Pair("overlay", "false"),
                          Pair("title", "lobby"), Pair("offset", "0")));
}

TEST_F(PluginTest, RejectsUnknownParameterListingKnownOnes) {
  absl::StatusOr<ParameterList> params = ValidateOne("fsp", "25");
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(params.status().message(),
            "stream /cam1: plugin testpattern: unknown parameter 'fsp' (known: "
            "width, height, fps, codec, speed, overlay, title, offset)");
}

TEST_F(PluginTest, RejectsIntegerOutOfRange) {
  absl::StatusOr<ParameterList> params = ValidateOne("fps", "0");
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(params.status().message(),
            "stream /cam1: plugin testpattern: parameter fps=0: must be in "
            "1..120");
  EXPECT_EQ(CanonicalOrError("fps", "121"),
            "stream /cam1: plugin testpattern: parameter fps=121: must be in "
            "1..120");
  EXPECT_EQ(CanonicalOrError("fps", "1"), "1");
  EXPECT_EQ(CanonicalOrError("fps", "120"), "120");
}

TEST_F(PluginTest, RejectsValuesThatAreNotIntegers) {
  absl::StatusOr<ParameterList> params = ValidateOne("width", "abc");
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(params.status().message(),
            "stream /cam1: plugin testpattern: parameter width=abc: not an "
            "integer");
  for (const char* value : {"", "12abc", " 640", "640 ", "6.5", "0x10", "-"}) {
    EXPECT_THAT(CanonicalOrError("width", value), HasSubstr(": not an integer"))
        << "value '" << value << "'";
  }
  EXPECT_THAT(CanonicalOrError("offset", "99999999999999999999"),
              HasSubstr("not an integer (out of 64-bit range)"));
}

TEST_F(PluginTest, AcceptsAnyIntegerWhenUnboundedAndCanonicalizesIt) {
  EXPECT_EQ(CanonicalOrError("offset", "-9000000000"), "-9000000000");
  EXPECT_EQ(CanonicalOrError("offset", "+007"), "7");
}

TEST_F(PluginTest, ValidatesDoubles) {
  EXPECT_EQ(CanonicalOrError("speed", "0.5"), "0.5");
  EXPECT_EQ(CanonicalOrError("speed", "2e0"), "2e0");
  EXPECT_EQ(CanonicalOrError("speed", "8"),
            "stream /cam1: plugin testpattern: parameter speed=8: must be in "
            "0.25..4");
  for (const char* value : {"fast", "nan", "inf", "", " 1", "1,5"}) {
    EXPECT_THAT(CanonicalOrError("speed", value), HasSubstr(": not a number"))
        << "value '" << value << "'";
  }
}

TEST_F(PluginTest, RejectsEnumValueNotAllowed) {
  absl::StatusOr<ParameterList> params = ValidateOne("codec", "vp9");
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(params.status().message(),
            "stream /cam1: plugin testpattern: parameter codec=vp9: must be one "
            "of h264, h265, mjpeg");
}

TEST_F(PluginTest, AcceptsEnumCaseInsensitivelyInSchemaSpelling) {
  EXPECT_EQ(CanonicalOrError("codec", "H265"), "h265");
}

TEST_F(PluginTest, NormalizesBoolSpellingsToTrueOrFalse) {
  for (const char* value : {"true", "TRUE", "yes", "Yes", "on", "ON", "1"}) {
    EXPECT_EQ(CanonicalOrError("overlay", value), "true") << value;
  }
  for (const char* value : {"false", "False", "no", "NO", "off", "Off", "0"}) {
    EXPECT_EQ(CanonicalOrError("overlay", value), "false") << value;
  }
}

TEST_F(PluginTest, RejectsBoolOtherThanTrueOrFalse) {
  absl::StatusOr<ParameterList> params = ValidateOne("overlay", "maybe");
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(params.status().message()),
              HasSubstr("stream /cam1: plugin testpattern: parameter "
                        "overlay=maybe: must be true or false"));
  EXPECT_THAT(CanonicalOrError("overlay", "2"), HasSubstr("must be true or false"));
}

TEST_F(PluginTest, AcceptsAnyStringButNulBytes) {
  EXPECT_EQ(CanonicalOrError("title", "Lobby, 2nd floor: ünïcode"), "Lobby, 2nd floor: ünïcode");
  EXPECT_EQ(CanonicalOrError("title", std::string("a\0b", 3)),
            "stream /cam1: plugin testpattern: parameter title=a\\000b: "
            "contains a NUL byte");
}

TEST_F(PluginTest, EscapesControlCharactersInMessages) {
  absl::StatusOr<ParameterList> params = ValidateOne("bad\nname", "1");
  EXPECT_THAT(std::string(params.status().message()), HasSubstr("unknown parameter 'bad\\nname'"));
}

TEST_F(PluginTest, ReportsMissingRequiredParameter) {
  rts_plugin_descriptor descriptor = TestPatternDescriptor();
  descriptor.params = kFileParams;
  descriptor.param_count = 1;
  std::unique_ptr<Plugin> plugin = MustWrap(descriptor);
  absl::StatusOr<ParameterList> params = plugin->ValidateParameters("/vod", {});
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(params.status().message(),
            "stream /vod: plugin testpattern: missing required parameter "
            "'location'");
  EXPECT_TRUE(plugin->ValidateParameters("/vod", {{"location", "/a.mp4"}}).ok());
}

TEST_F(PluginTest, ReportsMisspeltRequiredParameterAsUnknown) {
  rts_plugin_descriptor descriptor = TestPatternDescriptor();
  descriptor.params = kFileParams;
  descriptor.param_count = 1;
  std::unique_ptr<Plugin> plugin = MustWrap(descriptor);
  absl::StatusOr<ParameterList> params =
      plugin->ValidateParameters("/vod", {{"locaton", "/a.mp4"}});
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(params.status().message()),
              HasSubstr("unknown parameter 'locaton' (known: location)"));
}

TEST_F(PluginTest, SaysWhenPluginTakesNoParameters) {
  rts_plugin_descriptor descriptor = TestPatternDescriptor();
  descriptor.params = nullptr;
  descriptor.param_count = 0;
  std::unique_ptr<Plugin> plugin = MustWrap(descriptor);
  absl::StatusOr<ParameterList> params = plugin->ValidateParameters("/cam1", {{"fps", "1"}});
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(params.status().message()),
              HasSubstr("unknown parameter 'fps' (this plugin takes no "
                        "parameters)"));
}

// ---- CreateElement
// -----------------------------------------------------------

TEST_F(PluginTest, CreateElementPassesValidatedParametersInSchemaOrder) {
  std::unique_ptr<Plugin> plugin = MustWrap(TestPatternDescriptor());
  absl::StatusOr<GstPtr<GstElement>> element =
      plugin->CreateElement("/cam1", {{"overlay", "YES"}, {"codec", "H264"}});
  ASSERT_TRUE(element.ok()) << element.status();
  EXPECT_EQ(g_create_call.count, 1);
  EXPECT_EQ(g_create_call.stream_path, "/cam1");
  EXPECT_THAT(g_create_call.params,
              ElementsAre(Pair("width", "640"), Pair("height", "480"), Pair("fps", "30"),
                          Pair("codec", "h264"), Pair("speed", "1.0"), Pair("overlay", "true"),
                          Pair("title", ""), Pair("offset", "0")));
}

TEST_F(PluginTest, CreateElementDoesNotCallCreateWithInvalidParameters) {
  std::unique_ptr<Plugin> plugin = MustWrap(TestPatternDescriptor());
  absl::StatusOr<GstPtr<GstElement>> element = plugin->CreateElement("/cam1", {{"fps", "0"}});
  EXPECT_EQ(element.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(element.status().message(),
            "stream /cam1: plugin testpattern: parameter fps=0: must be in "
            "1..120");
  EXPECT_EQ(g_create_call.count, 0);
}

TEST_F(PluginTest, CreateElementReturnsTheOnlyReferenceNotFloating) {
  std::unique_ptr<Plugin> plugin = MustWrap(TestPatternDescriptor());
  absl::StatusOr<GstPtr<GstElement>> element = plugin->CreateElement("/cam1", {});
  ASSERT_TRUE(element.ok()) << element.status();
  EXPECT_FALSE(g_object_is_floating(element->get()));
  EXPECT_EQ(GST_OBJECT_REFCOUNT_VALUE(element->get()), 1);
}

TEST_F(PluginTest, ReportsCreateFailureWithoutMessage) {
  rts_plugin_descriptor descriptor = TestPatternDescriptor();
  descriptor.create = CreateFailsSilently;
  std::unique_ptr<Plugin> plugin = MustWrap(descriptor);
  absl::StatusOr<GstPtr<GstElement>> element = plugin->CreateElement("/cam1", {});
  EXPECT_EQ(element.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(element.status().message(),
            "stream /cam1: plugin testpattern: create failed: (the plugin gave "
            "no reason)");
}

TEST_F(PluginTest, RejectsCreatedObjectThatIsNotAnElement) {
  rts_plugin_descriptor descriptor = TestPatternDescriptor();
  descriptor.create = CreateNotAnElement;
  std::unique_ptr<Plugin> plugin = MustWrap(descriptor);
  absl::StatusOr<GstPtr<GstElement>> element = plugin->CreateElement("/cam1", {});
  EXPECT_EQ(element.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(element.status().message()),
              HasSubstr("create returned an object that is not a GstElement"));
}

TEST_F(PluginTest, FindsPay0InNestedBins) {
  rts_plugin_descriptor descriptor = TestPatternDescriptor();
  descriptor.create = CreateNestedPay0;
  std::unique_ptr<Plugin> plugin = MustWrap(descriptor);
  absl::StatusOr<GstPtr<GstElement>> element = plugin->CreateElement("/cam1", {});
  EXPECT_TRUE(element.ok()) << element.status();
}

TEST_F(PluginTest, AcceptsLoneElementOnlyIfItIsPay0) {
  rts_plugin_descriptor descriptor = TestPatternDescriptor();
  descriptor.create = CreateLonePay0;
  std::unique_ptr<Plugin> plugin = MustWrap(descriptor);
  EXPECT_TRUE(plugin->CreateElement("/cam1", {}).ok());

  descriptor.create = CreateLoneElement;
  plugin = MustWrap(descriptor);
  absl::StatusOr<GstPtr<GstElement>> element = plugin->CreateElement("/cam1", {});
  EXPECT_EQ(element.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(element.status().message()), HasSubstr("has no payloader named pay0"));
}

}  // namespace
}  // namespace server
}  // namespace rtsptest::core
