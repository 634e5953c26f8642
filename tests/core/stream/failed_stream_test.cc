// StreamManager with OnCreateFailure::kKeepFailed, as the server creates the
// config's streams: a stream that cannot be built stays listed as failed,
// with the build's error, until it is removed or replaced; liveness reports
// it failed. Real GStreamer and a real listener; the `counted` fixture.
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/listener/rtsp_listener.h"
#include "core/plugin_host/plugin_loader.h"
#include "core/stream/stream_manager.h"
#include "gtest/gtest.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::core {
namespace {

std::string FixtureDir() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".",
                      "/rtsp_test_server/tests/core/stream/fixtures");
}

class FailedStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loader_ = std::make_unique<PluginLoader>(std::vector<std::string>{FixtureDir()});
    listener_ = std::make_unique<RtspListener>("rtsp-test", "127.0.0.1", 0);
    ASSERT_TRUE(listener_->Start().ok());
    manager_ = std::make_unique<StreamManager>(
        loader_.get(), std::vector<RtspListener*>{listener_.get()}, kDefaultStallTimeout,
        [this](const StreamEvent& event) { events_.push_back(event); });
  }
  void TearDown() override {
    manager_.reset();
    listener_->Stop();
  }

  static config::v1::Stream Spec(const std::string& path, bool fail) {
    config::v1::Stream spec;
    spec.set_path(path);
    spec.set_plugin("counted");
    if (fail) (*spec.mutable_parameters())["fail"] = "true";
    return spec;
  }

  std::unique_ptr<PluginLoader> loader_;
  std::unique_ptr<RtspListener> listener_;
  std::unique_ptr<StreamManager> manager_;
  std::vector<StreamEvent> events_;  // only the test thread creates streams
};

TEST_F(FailedStreamTest, KeepFailedListsTheStreamFailedWithTheBuildError) {
  absl::Status status = manager_->Create(Spec("/bad", true), OnCreateFailure::kKeepFailed);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "stream /bad: plugin counted: create failed: camera /bad is unplugged");

  absl::StatusOr<Stream> kept = manager_->Get("/bad");
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->state, StreamState::kFailed);
  EXPECT_EQ(kept->status.health.state, StreamState::kFailed);
  EXPECT_EQ(kept->status.health.reason, status.message());
  EXPECT_TRUE(kept->status.listeners.empty());  // never mounted
  ASSERT_EQ(manager_->List().size(), 1u);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].type, StreamEvent::Type::kCreateFailed);

  std::vector<StreamLiveness> liveness = manager_->EvaluateLiveness();
  ASSERT_EQ(liveness.size(), 1u);
  EXPECT_EQ(liveness[0].path, "/bad");
  EXPECT_EQ(liveness[0].state, StreamState::kFailed);
}

TEST_F(FailedStreamTest, ForgetReleasesThePath) {
  absl::Status status = manager_->Create(Spec("/bad", true));
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Get("/bad").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(manager_->List().empty());
}

TEST_F(FailedStreamTest, AFailedStreamHoldsItsPathUntilRemoved) {
  ASSERT_FALSE(manager_->Create(Spec("/bad", true), OnCreateFailure::kKeepFailed).ok());
  EXPECT_EQ(manager_->Create(Spec("/bad", false)).code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(manager_->Remove("/bad").ok());
  EXPECT_EQ(manager_->Get("/bad").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(manager_->Create(Spec("/bad", false)).ok());
}

TEST_F(FailedStreamTest, ReplacingAFailedStreamServesIt) {
  ASSERT_FALSE(manager_->Create(Spec("/cam", true), OnCreateFailure::kKeepFailed).ok());
  // A replacement that fails too leaves it failed as it was.
  EXPECT_EQ(manager_->Replace(Spec("/cam", true)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Get("/cam")->state, StreamState::kFailed);

  ASSERT_TRUE(manager_->Replace(Spec("/cam", false)).ok());
  absl::StatusOr<Stream> serving = manager_->Get("/cam");
  ASSERT_TRUE(serving.ok());
  EXPECT_EQ(serving->state, StreamState::kStarting);
  EXPECT_EQ(serving->status.listeners, std::vector<std::string>{"rtsp-test"});
  ASSERT_TRUE(manager_->Remove("/cam").ok());
}

}  // namespace
}  // namespace rtsptest::core
