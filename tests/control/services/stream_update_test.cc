// ApplyUpdateMask: which fields of UpdateStream's stream replace the serving
// spec's, and the exact error for a field the mask may not name.
#include "control/services/stream_update.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace rtsptest::control {
namespace {

config::v1::Stream Current() {
  config::v1::Stream stream;
  stream.set_path("/cam");
  stream.set_plugin("testpattern");
  (*stream.mutable_parameters())["fps"] = "5";
  (*stream.mutable_parameters())["width"] = "320";
  stream.add_listeners("lo");
  stream.set_description("old");
  return stream;
}

google::protobuf::FieldMask Mask(std::initializer_list<const char*> paths) {
  google::protobuf::FieldMask mask;
  for (const char* path : paths) mask.add_paths(path);
  return mask;
}

TEST(ApplyUpdateMaskTest, EmptyMaskTakesTheWholeStreamButKeepsThePath) {
  config::v1::Stream update;
  update.set_path("/other");
  update.set_plugin("pipeline");
  absl::StatusOr<config::v1::Stream> merged = ApplyUpdateMask(Current(), update, Mask({}));
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->path(), "/cam");
  EXPECT_EQ(merged->plugin(), "pipeline");
  EXPECT_TRUE(merged->parameters().empty());
  EXPECT_TRUE(merged->listeners().empty());
}

TEST(ApplyUpdateMaskTest, OneParameterChangesAndTheRestStays) {
  config::v1::Stream update;
  (*update.mutable_parameters())["fps"] = "25";
  (*update.mutable_parameters())["width"] = "9999";  // not in the mask
  absl::StatusOr<config::v1::Stream> merged =
      ApplyUpdateMask(Current(), update, Mask({"parameters.fps"}));
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->parameters().at("fps"), "25");
  EXPECT_EQ(merged->parameters().at("width"), "320");
  EXPECT_EQ(merged->description(), "old");
}

TEST(ApplyUpdateMaskTest, AParameterMissingFromTheUpdateIsRemoved) {
  absl::StatusOr<config::v1::Stream> merged =
      ApplyUpdateMask(Current(), config::v1::Stream(), Mask({"parameters.fps"}));
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->parameters().count("fps"), 0u);
  EXPECT_EQ(merged->parameters().at("width"), "320");
}

TEST(ApplyUpdateMaskTest, NamedFieldsReplaceWholeFields) {
  config::v1::Stream update;
  update.set_description("new");
  (*update.mutable_parameters())["fps"] = "10";
  absl::StatusOr<config::v1::Stream> merged =
      ApplyUpdateMask(Current(), update, Mask({"description", "parameters", "listeners"}));
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->description(), "new");
  EXPECT_EQ(merged->parameters().size(), 1u);
  EXPECT_TRUE(merged->listeners().empty());
  EXPECT_EQ(merged->plugin(), "testpattern");
}

TEST(ApplyUpdateMaskTest, AuthIsReplacedWholeOrRemoved) {
  config::v1::Stream current = Current();
  current.mutable_auth()->set_username("old");
  current.mutable_auth()->set_password("old-pw");
  config::v1::Stream update = Current();
  update.mutable_auth()->set_method(config::v1::StreamAuth::BASIC);
  update.mutable_auth()->set_username("new");
  update.mutable_auth()->set_password("new-pw");
  absl::StatusOr<config::v1::Stream> merged = ApplyUpdateMask(current, update, Mask({"auth"}));
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->auth().username(), "new");
  EXPECT_EQ(merged->auth().password(), "new-pw");
  EXPECT_EQ(merged->auth().method(), config::v1::StreamAuth::BASIC);
  merged = ApplyUpdateMask(current, Current(), Mask({"auth"}));
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_FALSE(merged->has_auth());
}

TEST(ApplyUpdateMaskTest, PathIsNotAnUpdatableField) {
  absl::StatusOr<config::v1::Stream> merged =
      ApplyUpdateMask(Current(), Current(), Mask({"description", "path"}));
  EXPECT_EQ(merged.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(merged.status().message(),
            "update_mask.paths[1]: unknown field 'path' (have: plugin, parameters, "
            "parameters.<name>, listeners, description, auth; the path cannot change)");
}

}  // namespace
}  // namespace rtsptest::control
