// Stream liveness in health, on the real server in process: an App with a
// `pipeline` plugin stream whose frames pass a GStreamer valve, checked
// through real grpc.health.v1 clients (Watch streams, Check) and the
// GetHealthReport the control plane serves. Closing the valve freezes the
// stream exactly as a hung camera or encoder would: the pipeline stays
// PLAYING, the RTSP ports keep answering, no frame leaves the payloader.
// Synchronisation is by Watch streams and bounded polling, never by sleeping.
#include <gst/gst.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "app/app.h"
#include "common/time/proto_time.h"
#include "config/config_validator.h"
#include "gtest/gtest.h"
#include "rtsptest/config/v1/config.pb.h"
#include "tests/app/health_client.h"

namespace rtsptest::testing {
namespace {

using app::App;
using config::v1::ServerConfig;

constexpr absl::Duration kWait = absl::Seconds(10);  // Generous cap for any one wait.
constexpr char kValvePath[] = "/valve";
constexpr char kSteadyPath[] = "/steady";

// 320x240 at 10 fps through a valve named "gate"; the test closes and opens it.
constexpr char kValveDescription[] =
    "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=10/1 ! "
    "valve name=gate ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! "
    "rtph264pay name=pay0 pt=96 config-interval=-1";

struct Options {
  absl::Duration stall_timeout = config::kDefaultStallTimeout;
  bool require_live_streams = false;
  // Extra pipeline streams: path -> gst-launch description.
  std::vector<std::pair<std::string, std::string>> pipelines;
};

// One 127.0.0.1 listener on port 0, the gRPC port on 127.0.0.1:0, the valve
// stream and a cheap steady test pattern.
ServerConfig MakeConfig(const Options& options) {
  ServerConfig config;
  config::v1::Listener* listener = config.add_listeners();
  listener->set_name("l0");
  listener->set_bind_address("127.0.0.1");
  listener->set_port(0);
  std::vector<std::pair<std::string, std::string>> pipelines = {{kValvePath, kValveDescription}};
  pipelines.insert(pipelines.end(), options.pipelines.begin(), options.pipelines.end());
  for (const auto& [path, description] : pipelines) {
    config::v1::Stream* stream = config.add_streams();
    stream->set_path(path);
    stream->set_plugin("pipeline");
    (*stream->mutable_parameters())["description"] = description;
  }
  config::v1::Stream* steady = config.add_streams();
  steady->set_path(kSteadyPath);
  steady->set_plugin("testpattern");
  (*steady->mutable_parameters())["width"] = "160";
  (*steady->mutable_parameters())["height"] = "120";
  (*steady->mutable_parameters())["fps"] = "5";
  (*steady->mutable_parameters())["overlay"] = "false";
  config.add_plugin_dirs(absl::StrCat(std::getenv("TEST_SRCDIR"), "/rtsp_test_server/plugins"));
  config.mutable_control()->set_bind_address("127.0.0.1");
  config.mutable_control()->set_port(0);
  *config.mutable_health()->mutable_probe_interval() =
      common::ToProtoDuration(absl::Milliseconds(200));
  *config.mutable_health()->mutable_probe_timeout() =
      common::ToProtoDuration(absl::Milliseconds(300));
  *config.mutable_health()->mutable_stall_timeout() =
      common::ToProtoDuration(options.stall_timeout);
  config.mutable_health()->set_require_live_streams(options.require_live_streams);
  config::ApplyDefaults(&config);
  return config;
}

std::string StreamName(const std::string& path) { return absl::StrCat("stream:", path); }

class StreamLivenessTest : public ::testing::Test {
 protected:
  void TearDown() override {
    watches_.clear();
    if (app_ != nullptr) app_->Stop();
  }

  void StartApp(const Options& options) {
    app_ = std::make_unique<App>(MakeConfig(options));
    absl::Status started = app_->Start();
    ASSERT_TRUE(started.ok()) << started;
    ASSERT_TRUE(app_->monitor()->AwaitRound(1, kWait));
    client_ = std::make_unique<HealthClient>(app_->grpc_port());
  }

  HealthWatch& Watch(const std::string& service) {
    watches_.push_back(std::make_unique<HealthWatch>(*client_, service));
    return *watches_.back();
  }

  // Sets the valve of /valve: closed drops every buffer before the encoder.
  void SetValveClosed(bool closed) {
    absl::StatusOr<core::GstPtr<GstElement>> gate =
        app_->server().streams().FindElement(kValvePath, "gate");
    ASSERT_TRUE(gate.ok()) << gate.status();
    g_object_set(gate->get(), "drop", closed ? TRUE : FALSE, nullptr);
  }

  std::optional<control::v1::StreamReport> StreamReport(const std::string& path) {
    const control::v1::HealthReport report = app_->BuildHealthReport();
    for (const control::v1::StreamReport& stream : report.streams()) {
      if (stream.path() == path) return stream;
    }
    ADD_FAILURE() << "no stream " << path << " in the report";
    return std::nullopt;
  }

  std::unique_ptr<App> app_;
  std::unique_ptr<HealthClient> client_;
  std::vector<std::unique_ptr<HealthWatch>> watches_;
};

TEST_F(StreamLivenessTest,
       FrozenStreamTurnsNotServingWithinStallTimeoutPlusOneSecondAndServingWhenItResumes) {
  const absl::Duration stall = config::kDefaultStallTimeout;
  StartApp({});
  HealthWatch& watch = Watch(StreamName(kValvePath));
  ASSERT_TRUE(watch.NextWith(kServing, kWait).has_value()) << "the stream never became live";
  EXPECT_EQ(StatusName(client_->CheckStatus(StreamName(kSteadyPath))), "SERVING");
  std::optional<control::v1::StreamReport> live = StreamReport(kValvePath);
  ASSERT_TRUE(live.has_value());
  EXPECT_EQ(live->state(), control::v1::STREAM_STATE_LIVE);
  EXPECT_EQ(live->state_reason(), "");
  EXPECT_GT(live->frames_produced(), 0u);
  ASSERT_EQ(live->tracks_size(), 1);
  EXPECT_EQ(live->tracks(0).media(), "video");

  const absl::Time closed = absl::Now();
  SetValveClosed(true);
  std::optional<HealthWatch::Update> down = watch.Next(stall + kWait);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(StatusName(down->status), "NOT_SERVING");
  const absl::Duration took = down->received - closed;
  std::cout << "[figure] stall_timeout " << absl::FormatDuration(stall) << ": NOT_SERVING "
            << absl::FormatDuration(took) << " after the valve closed\n";
  RecordProperty("not_serving_after_freeze_ms", absl::StrCat(absl::ToInt64Milliseconds(took)));
  EXPECT_LE(took, stall + absl::Seconds(1));
  // Not before the stall timeout either: the last frame left at most one
  // frame interval (100 ms) before the valve closed.
  EXPECT_GE(took, stall - absl::Milliseconds(150));

  // Only the frozen stream: ports and the other stream are fine, and "" keeps
  // the port rule (require_live_streams is off).
  EXPECT_EQ(StatusName(client_->CheckStatus(StreamName(kValvePath))), "NOT_SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus(StreamName(kSteadyPath))), "SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus("")), "SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus("rtsp")), "SERVING");
  std::optional<control::v1::StreamReport> stalled = StreamReport(kValvePath);
  ASSERT_TRUE(stalled.has_value());
  EXPECT_EQ(stalled->state(), control::v1::STREAM_STATE_STALLED);
  EXPECT_TRUE(absl::StartsWith(stalled->state_reason(), "no frame for "))
      << stalled->state_reason();
  EXPECT_GT(common::FromProtoDuration(stalled->last_frame_age()), stall);
  const control::v1::HealthReport report = app_->BuildHealthReport();
  EXPECT_TRUE(report.serving());
  EXPECT_FALSE(report.services().at(StreamName(kValvePath)));
  EXPECT_TRUE(report.services().at(StreamName(kSteadyPath)));

  const absl::Time opened = absl::Now();
  SetValveClosed(false);
  std::optional<HealthWatch::Update> up = watch.Next(kWait);
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(StatusName(up->status), "SERVING");
  std::cout << "[figure] SERVING again " << absl::FormatDuration(up->received - opened)
            << " after the valve opened\n";
  EXPECT_LE(up->received - opened, absl::Seconds(1));
  EXPECT_EQ(StreamReport(kValvePath)->state(), control::v1::STREAM_STATE_LIVE);
  // Each transition reached the Watch once. (Before the first SERVING the
  // Watch may have seen the NOT_SERVING of a stream not yet evaluated.)
  std::vector<ServingStatus> history = watch.History();
  auto first_serving = std::find(history.begin(), history.end(), kServing);
  EXPECT_EQ(std::vector<ServingStatus>(first_serving, history.end()),
            (std::vector<ServingStatus>{kServing, kNotServing, kServing}));
}

TEST_F(StreamLivenessTest, WithRequireLiveStreamsOverallFollowsAFrozenStream) {
  const absl::Duration stall = absl::Seconds(1);
  Options options;
  options.stall_timeout = stall;
  options.require_live_streams = true;
  StartApp(options);
  HealthWatch& overall = Watch("");
  ASSERT_TRUE(overall.NextWith(kServing, kWait).has_value()) << "\"\" never became SERVING";

  const absl::Time closed = absl::Now();
  SetValveClosed(true);
  std::optional<HealthWatch::Update> down = overall.Next(stall + kWait);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(StatusName(down->status), "NOT_SERVING");
  std::cout << "[figure] stall_timeout 1s, require_live_streams: \"\" NOT_SERVING "
            << absl::FormatDuration(down->received - closed) << " after the valve closed\n";
  EXPECT_LE(down->received - closed, stall + absl::Seconds(1));
  // The ports are fine: "rtsp" is the port rule alone.
  EXPECT_EQ(StatusName(client_->CheckStatus("rtsp")), "SERVING");
  const control::v1::HealthReport report = app_->BuildHealthReport();
  EXPECT_TRUE(report.require_live_streams());
  EXPECT_FALSE(report.serving());
  EXPECT_FALSE(report.services().at(""));
  EXPECT_EQ(report.healthy_listeners(), 1u);

  SetValveClosed(false);
  std::optional<HealthWatch::Update> up = overall.Next(kWait);
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(StatusName(up->status), "SERVING");
}

TEST_F(StreamLivenessTest, PipelineErrorFailsTheStreamForGood) {
  StartApp({});
  HealthWatch& watch = Watch(StreamName(kValvePath));
  ASSERT_TRUE(watch.NextWith(kServing, kWait).has_value());

  // An element of the stream reports a fatal error, as a failing plugin
  // element would; frames keep flowing through the valve regardless.
  absl::StatusOr<core::GstPtr<GstElement>> gate =
      app_->server().streams().FindElement(kValvePath, "gate");
  ASSERT_TRUE(gate.ok()) << gate.status();
  GError* error =
      g_error_new_literal(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, "injected failure");
  const absl::Time posted = absl::Now();
  gst_element_post_message(gate->get(),
                           gst_message_new_error(GST_OBJECT(gate->get()), error, "test"));
  g_error_free(error);

  std::optional<HealthWatch::Update> down = watch.Next(kWait);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(StatusName(down->status), "NOT_SERVING");
  EXPECT_LE(down->received - posted, absl::Seconds(1));
  std::optional<control::v1::StreamReport> failed = StreamReport(kValvePath);
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->state(), control::v1::STREAM_STATE_FAILED);
  EXPECT_EQ(failed->state_reason(), "pipeline error from gate: injected failure");

  // Frames still come out, and later evaluations keep the stream failed.
  const uint64_t frames_at_failure = failed->frames_produced();
  const absl::Time deadline = absl::Now() + kWait;
  std::optional<control::v1::StreamReport> later = failed;
  while (later.has_value() && later->frames_produced() < frames_at_failure + 5 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));  // Polling interval, bounded by the deadline.
    later = StreamReport(kValvePath);
  }
  ASSERT_TRUE(later.has_value());
  EXPECT_GE(later->frames_produced(), frames_at_failure + 5);
  EXPECT_EQ(later->state(), control::v1::STREAM_STATE_FAILED);
  EXPECT_EQ(StatusName(client_->CheckStatus(StreamName(kValvePath))), "NOT_SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus(StreamName(kSteadyPath))), "SERVING");
}

TEST_F(StreamLivenessTest, EndOfStreamFailsTheStream) {
  Options options;
  // 15 frames at 10 fps, then the source ends.
  options.pipelines = {{"/short",
                        "videotestsrc is-live=true num-buffers=15 ! "
                        "video/x-raw,format=I420,width=160,height=120,framerate=10/1 ! jpegenc ! "
                        "rtpjpegpay name=pay0"}};
  StartApp(options);
  // The source may end before a Watch could see the stream live, so the
  // report is polled (bounded) until the stream has failed.
  std::optional<control::v1::StreamReport> report = StreamReport("/short");
  const absl::Time deadline = absl::Now() + kWait;
  while (report.has_value() && report->state() != control::v1::STREAM_STATE_FAILED &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));  // Polling interval, bounded by the deadline.
    report = StreamReport("/short");
  }
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->state(), control::v1::STREAM_STATE_FAILED);
  EXPECT_EQ(report->state_reason(), "end of stream (track 0)");
  // Every frame the source made, but perhaps the first: the probes are
  // attached once the media is prepared, and a live pipeline may already
  // hold its first frame then.
  EXPECT_GE(report->frames_produced(), 14u);
  EXPECT_LE(report->frames_produced(), 15u);
  // The name follows at the same evaluation; the publication comes right
  // after it, so a short bounded poll covers the gap.
  CheckResult check = client_->Check(StreamName("/short"));
  for (int i = 0; i < 20 && check.status != kNotServing; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    check = client_->Check(StreamName("/short"));
  }
  EXPECT_EQ(StatusName(check.status), "NOT_SERVING");
  EXPECT_EQ(StatusName(client_->CheckStatus(StreamName(kValvePath))), "SERVING");
}

}  // namespace
}  // namespace rtsptest::testing
