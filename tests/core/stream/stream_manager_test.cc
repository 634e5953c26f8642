// StreamManager: one pipeline per path however many create it at once,
// removal while readers play, and failures that stay with their stream.
// Real GStreamer, a real RTSP listener on loopback and real rtspsrc readers;
// the `counted` fixture plugin counts the pipelines built.
#include "core/stream/stream_manager.h"

#include <gst/gst.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "core/listener/rtsp_listener.h"
#include "core/plugin_host/plugin_loader.h"
#include "core/stream/stream_liveness_checker.h"
#include "gtest/gtest.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::core {
namespace {

constexpr absl::Duration kWait = absl::Seconds(10);

std::string FixtureDir() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".",
                      "/rtsp_test_server/tests/core/stream/fixtures");
}

// Lines in `path`: one per create of the `counted` plugin.
int CountLines(const std::string& path) {
  std::ifstream in(path);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  return lines;
}

// An RTSP reader that only counts what it receives: rtspsrc over TCP into a
// fakesink. Its bus tells when the server ends its session.
class PlainReader {
 public:
  explicit PlainReader(const std::string& url) {
    pipeline_ = gst_parse_launch(
        absl::StrCat("rtspsrc location=", url, " protocols=tcp latency=0 ! fakesink name=sink")
            .c_str(),
        nullptr);
    GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline_), "sink");
    GstPad* pad = gst_element_get_static_pad(sink, "sink");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, &PlainReader::OnBuffer, this, nullptr);
    gst_object_unref(pad);
    gst_object_unref(sink);
    gst_element_set_state(pipeline_, GST_STATE_PLAYING);
  }
  ~PlainReader() {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(pipeline_);
  }

  bool WaitForBuffers(int n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return buffers_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), kWait);
  }
  // The first EOS or ERROR on the reader's bus within kWait, or null.
  GstMessage* WaitForEnd() {
    GstBus* bus = gst_element_get_bus(pipeline_);
    GstMessage* message = gst_bus_timed_pop_filtered(
        bus, absl::ToInt64Nanoseconds(kWait),
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    gst_object_unref(bus);
    return message;
  }

 private:
  static GstPadProbeReturn OnBuffer(GstPad*, GstPadProbeInfo*, gpointer self) {
    auto* reader = static_cast<PlainReader*>(self);
    absl::MutexLock lock(&reader->mu_);
    ++reader->buffers_;
    return GST_PAD_PROBE_OK;
  }

  GstElement* pipeline_ = nullptr;
  absl::Mutex mu_;
  int buffers_ ABSL_GUARDED_BY(mu_) = 0;
};

class StreamManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    count_file_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/creates-",
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::remove(count_file_.c_str());
    loader_ = std::make_unique<PluginLoader>(std::vector<std::string>{FixtureDir()});
    listener_ = std::make_unique<RtspListener>("rtsp-test", "127.0.0.1", 0);
    ASSERT_TRUE(listener_->Start().ok());
    manager_ =
        std::make_unique<StreamManager>(loader_.get(), std::vector<RtspListener*>{listener_.get()},
                                        kDefaultStallTimeout, [this](const StreamEvent& event) {
                                          absl::MutexLock lock(&events_mu_);
                                          events_.push_back(event);
                                        });
  }
  void TearDown() override {
    manager_.reset();
    listener_->Stop();
  }

  config::v1::Stream Spec(const std::string& path, bool fail = false) const {
    config::v1::Stream spec;
    spec.set_path(path);
    spec.set_plugin("counted");
    (*spec.mutable_parameters())["count_file"] = count_file_;
    if (fail) (*spec.mutable_parameters())["fail"] = "true";
    return spec;
  }
  std::string Url(const std::string& path) const {
    return absl::StrCat("rtsp://127.0.0.1:", listener_->bound_port(), path);
  }
  // Waits (bounded) for a state_changed event of `path` to `state`; returns
  // its reason, or nullopt on timeout.
  std::optional<std::string> WaitForState(const std::string& path, StreamState state) {
    absl::MutexLock lock(&events_mu_);
    const StreamEvent* found = nullptr;
    auto seen = [&]() ABSL_SHARED_LOCKS_REQUIRED(events_mu_) {
      for (const StreamEvent& event : events_) {
        if (event.type == StreamEvent::Type::kStateChanged && event.path == path &&
            event.state == state) {
          found = &event;
          return true;
        }
      }
      return false;
    };
    if (!events_mu_.AwaitWithTimeout(absl::Condition(&seen), kWait)) return std::nullopt;
    return found->reason;
  }
  std::vector<StreamEvent::Type> EventTypes(const std::string& path) {
    absl::MutexLock lock(&events_mu_);
    std::vector<StreamEvent::Type> types;
    for (const StreamEvent& event : events_) {
      if (event.path == path) types.push_back(event.type);
    }
    return types;
  }

  std::string count_file_;
  std::unique_ptr<PluginLoader> loader_;
  std::unique_ptr<RtspListener> listener_;
  std::unique_ptr<StreamManager> manager_;
  absl::Mutex events_mu_;
  std::vector<StreamEvent> events_ ABSL_GUARDED_BY(events_mu_);
};

TEST_F(StreamManagerTest, ConcurrentCreatesOfOnePathBuildOnePipeline) {
  constexpr int kThreads = 6;
  absl::Notification go;
  std::vector<absl::Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      go.WaitForNotification();
      results[i] = manager_->Create(Spec("/cam"));
    });
  }
  go.Notify();
  for (std::thread& thread : threads) thread.join();

  int ok = 0, already_exists = 0;
  for (const absl::Status& status : results) {
    if (status.ok()) ++ok;
    if (absl::IsAlreadyExists(status)) ++already_exists;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(already_exists, kThreads - 1);
  EXPECT_EQ(CountLines(count_file_), 1);
  ASSERT_EQ(manager_->List().size(), 1u);
  EXPECT_EQ(manager_->List()[0].path(), "/cam");
}

TEST_F(StreamManagerTest, CreateOfATakenPathIsAlreadyExists) {
  ASSERT_TRUE(manager_->Create(Spec("/cam")).ok());
  absl::Status again = manager_->Create(Spec("/cam"));
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(again.message(), "stream /cam: path already in use");
  EXPECT_EQ(CountLines(count_file_), 1);
}

TEST_F(StreamManagerTest, RemoveWhileReadersPlayEndsTheirSessionsAndFreesThePath) {
  ASSERT_TRUE(manager_->Create(Spec("/cam")).ok());
  PlainReader first(Url("/cam"));
  PlainReader second(Url("/cam"));
  ASSERT_TRUE(first.WaitForBuffers(5));
  ASSERT_TRUE(second.WaitForBuffers(5));
  absl::StatusOr<Stream> playing = manager_->Get("/cam");
  ASSERT_TRUE(playing.ok());
  EXPECT_EQ(playing->status.readers, 2);

  ASSERT_TRUE(manager_->Remove("/cam").ok());

  for (PlainReader* reader : {&first, &second}) {
    GstMessage* end = reader->WaitForEnd();
    EXPECT_NE(end, nullptr) << "the reader's session did not end";
    if (end != nullptr) gst_message_unref(end);
  }
  EXPECT_EQ(manager_->Get("/cam").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(manager_->List().empty());
  EXPECT_EQ(EventTypes("/cam"), (std::vector<StreamEvent::Type>{StreamEvent::Type::kCreated,
                                                                StreamEvent::Type::kStateChanged,
                                                                StreamEvent::Type::kRemoved}));
  // The path is free again: a new pipeline, and a new reader gets media.
  ASSERT_TRUE(manager_->Create(Spec("/cam")).ok());
  EXPECT_EQ(CountLines(count_file_), 2);
  PlainReader third(Url("/cam"));
  EXPECT_TRUE(third.WaitForBuffers(5));
}

TEST_F(StreamManagerTest, RemoveOfAnUnknownPathIsNotFound) {
  absl::Status status = manager_->Remove("/nope");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "stream /nope: no such stream");
}

TEST_F(StreamManagerTest, PluginCreateFailureReleasesThePathAndLeavesOthers) {
  ASSERT_TRUE(manager_->Create(Spec("/good")).ok());
  PlainReader reader(Url("/good"));
  ASSERT_TRUE(reader.WaitForBuffers(3));

  absl::Status failed = manager_->Create(Spec("/bad", /*fail=*/true));
  EXPECT_EQ(failed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(failed.message().find("camera /bad is unplugged"), absl::string_view::npos) << failed;
  EXPECT_EQ(EventTypes("/bad"), std::vector<StreamEvent::Type>{StreamEvent::Type::kCreateFailed});
  EXPECT_EQ(manager_->Get("/bad").status().code(), absl::StatusCode::kNotFound);

  // The other stream still serves its reader.
  ASSERT_EQ(manager_->List().size(), 1u);
  EXPECT_EQ(manager_->List()[0].path(), "/good");
  EXPECT_TRUE(reader.WaitForBuffers(30));
  // The failed path was released.
  EXPECT_TRUE(manager_->Create(Spec("/bad")).ok());
}

TEST_F(StreamManagerTest, BusErrorAfterStartTurnsTheStreamFailed) {
  ASSERT_TRUE(manager_->Create(Spec("/cam")).ok());
  ASSERT_TRUE(manager_->Create(Spec("/other")).ok());
  StreamLivenessChecker checker(manager_.get(), absl::Milliseconds(20), nullptr);
  checker.Start();
  ASSERT_TRUE(WaitForState("/cam", StreamState::kLive).has_value());

  absl::StatusOr<GstPtr<GstElement>> src = manager_->FindElement("/cam", "src");
  ASSERT_TRUE(src.ok()) << src.status();
  GST_ELEMENT_ERROR(src->get(), RESOURCE, FAILED, ("camera unplugged"), (nullptr));

  std::optional<std::string> reason = WaitForState("/cam", StreamState::kFailed);
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(*reason, "pipeline error from src: camera unplugged");
  checker.Stop();
  absl::StatusOr<Stream> stream = manager_->Get("/cam");
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(stream->state, StreamState::kFailed);
  EXPECT_EQ(stream->status.health.reason, "pipeline error from src: camera unplugged");
  EXPECT_NE(manager_->Get("/other")->state, StreamState::kFailed);
}

TEST_F(StreamManagerTest, EndOfStreamTurnsTheStreamFailed) {
  ASSERT_TRUE(manager_->Create(Spec("/cam")).ok());
  StreamLivenessChecker checker(manager_.get(), absl::Milliseconds(20), nullptr);
  checker.Start();
  ASSERT_TRUE(WaitForState("/cam", StreamState::kLive).has_value());

  absl::StatusOr<GstPtr<GstElement>> src = manager_->FindElement("/cam", "src");
  ASSERT_TRUE(src.ok()) << src.status();
  gst_element_send_event(src->get(), gst_event_new_eos());

  std::optional<std::string> reason = WaitForState("/cam", StreamState::kFailed);
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(*reason, "end of stream (track 0)");
}

TEST_F(StreamManagerTest, ReplaceServesTheNewSpecAndClosesTheOldReaders) {
  ASSERT_TRUE(manager_->Create(Spec("/cam")).ok());
  PlainReader old_reader(Url("/cam"));
  ASSERT_TRUE(old_reader.WaitForBuffers(5));

  config::v1::Stream replacement = Spec("/cam");
  replacement.set_description("replaced");
  ASSERT_TRUE(manager_->Replace(replacement).ok());

  GstMessage* end = old_reader.WaitForEnd();
  EXPECT_NE(end, nullptr) << "the old reader's session did not end";
  if (end != nullptr) gst_message_unref(end);
  EXPECT_EQ(CountLines(count_file_), 2);
  absl::StatusOr<Stream> stream = manager_->Get("/cam");
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(stream->spec.description(), "replaced");
  EXPECT_EQ(stream->status.listeners, std::vector<std::string>{"rtsp-test"});
  PlainReader new_reader(Url("/cam"));
  EXPECT_TRUE(new_reader.WaitForBuffers(5));
}

TEST_F(StreamManagerTest, ReplaceWithAFailingPluginLeavesTheOldStreamServing) {
  ASSERT_TRUE(manager_->Create(Spec("/cam")).ok());
  PlainReader reader(Url("/cam"));
  ASSERT_TRUE(reader.WaitForBuffers(5));

  absl::Status failed = manager_->Replace(Spec("/cam", /*fail=*/true));
  EXPECT_EQ(failed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(failed.message().find("camera /cam is unplugged"), absl::string_view::npos) << failed;

  absl::StatusOr<Stream> stream = manager_->Get("/cam");
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(stream->spec.parameters().count("fail"), 0u);
  EXPECT_EQ(stream->status.readers, 1);
  EXPECT_TRUE(reader.WaitForBuffers(60));
  // Not stuck "being replaced": the stream can be removed.
  EXPECT_TRUE(manager_->Remove("/cam").ok());
}

TEST_F(StreamManagerTest, ReplaceOfAnUnknownPathIsNotFound) {
  absl::Status status = manager_->Replace(Spec("/nope"));
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "stream /nope: no such stream");
  EXPECT_EQ(CountLines(count_file_), 0);
}

}  // namespace
}  // namespace rtsptest::core
