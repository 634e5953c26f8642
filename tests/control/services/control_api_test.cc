// rtsptest.control.v1 end to end: the real rtsp_test_server (port-0
// listeners, --grpc_port=0), a real gRPC client, and real RTSP clients:
// ffprobe, an rtspsrc reader that decodes, and tools/rtsp_client.
//
// One server serves every test of the suite (starting it costs seconds);
// each test uses paths of its own, so the tests do not depend on each other.
// Every wait is bounded: states are polled with a deadline, never slept on.
#include <stdio.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rtsptest/control/v1/control.grpc.pb.h"
#include "tests/e2e/server_process.h"
#include "tests/util/rtsp_reader.h"
#include "tests/util/subprocess.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

namespace v1 = ::rtsptest::control::v1;
using config::v1::Stream;
using tools::RtspClient;
using tools::Transport;

constexpr absl::Duration kRpcTimeout = absl::Seconds(20);
constexpr absl::Duration kStep = absl::Seconds(10);
// The host a second client claims in :authority, as if it came through a
// name: wildcard-bound listeners must be reported on it.
constexpr char kOtherHost[] = "cams.example";

// Listener "lo" is bound to loopback, "any" to every address; /static comes
// from the config and must serve on regardless of what the tests do.
constexpr char kConfig[] = R"yaml(
listeners:
  - {name: lo, bind_address: 127.0.0.1, port: 0}
  - {name: any, bind_address: 0.0.0.0, port: 0}
streams:
  - path: /static
    plugin: testpattern
    listeners: [lo]
    parameters: {width: 160, height: 120, fps: 10, codec: h264, overlay: false, gop: 10}
drain_timeout: 0s
)yaml";

Stream TestPattern(const std::string& path, int fps = 15) {
  Stream stream;
  stream.set_path(path);
  stream.set_plugin("testpattern");
  auto& p = *stream.mutable_parameters();
  p["width"] = "320";
  p["height"] = "240";
  p["fps"] = absl::StrCat(fps);
  p["codec"] = "h264";
  p["overlay"] = "false";
  p["gop"] = absl::StrCat(fps);
  return stream;
}

Stream BadPipeline(const std::string& path) {
  Stream stream;
  stream.set_path(path);
  stream.set_plugin("pipeline");
  (*stream.mutable_parameters())["description"] = "nosuchelement_xyz ! fakesink";
  return stream;
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + kRpcTimeout));
  return context;
}

class ControlApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    absl::Status started = server_->StartWithConfig(kConfig);
    ASSERT_TRUE(started.ok()) << started << "\n" << server_->output();
    const std::string target = absl::StrCat("127.0.0.1:", server_->grpc_port());
    stub_ =
        v1::ControlService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()))
            .release();
    grpc::ChannelArguments args;
    args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, absl::StrCat(kOtherHost, ":", server_->grpc_port()));
    named_stub_ = v1::ControlService::NewStub(
                      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args))
                      .release();
  }
  static void TearDownTestSuite() {
    delete stub_;
    delete named_stub_;
    delete server_;
  }
  void TearDown() override { EXPECT_TRUE(server_->IsRunning()) << server_->output(); }

  static grpc::Status Create(const Stream& stream, v1::StreamStatus* out = nullptr) {
    v1::CreateStreamRequest request;
    *request.mutable_stream() = stream;
    v1::StreamStatus response;
    grpc::Status status = stub_->CreateStream(Context().get(), request, &response);
    if (out != nullptr) *out = response;
    return status;
  }
  static grpc::Status Get(const std::string& path, v1::StreamStatus* out,
                          v1::ControlService::Stub* stub = nullptr) {
    v1::GetStreamRequest request;
    request.set_path(path);
    return (stub != nullptr ? stub : stub_)->GetStream(Context().get(), request, out);
  }
  static grpc::Status Delete(const std::string& path) {
    v1::DeleteStreamRequest request;
    request.set_path(path);
    v1::DeleteStreamResponse response;
    return stub_->DeleteStream(Context().get(), request, &response);
  }
  static std::string Url(const std::string& listener, const std::string& path) {
    return absl::StrCat("rtsp://127.0.0.1:", server_->port(listener), path);
  }
  // Polls GetStream until `done` holds, up to `timeout`; the last answer.
  static v1::StreamStatus PollStream(const std::string& path,
                                     const std::function<bool(const v1::StreamStatus&)>& done,
                                     absl::Duration timeout) {
    v1::StreamStatus status;
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      status.Clear();
      if (Get(path, &status).ok() && done(status)) break;
      // Bounded poll: liveness is re-evaluated every 250 ms at most.
      absl::SleepFor(absl::Milliseconds(100));
    }
    return status;
  }
  // DESCRIBE's outcome: OK, or the error naming the status line.
  static absl::Status Describe(const std::string& url) {
    RtspClient client(url);
    if (absl::Status s = client.Connect(kStep); !s.ok()) return s;
    return client.Describe(kStep).status();
  }
  // PLAYs `url` and reads media for `duration`: RTP packets read.
  static absl::StatusOr<int64_t> PlayFor(const std::string& url, absl::Duration duration) {
    RtspClient client(url);
    if (absl::Status s = client.Connect(kStep); !s.ok()) return s;
    if (absl::Status s = client.Describe(kStep).status(); !s.ok()) return s;
    if (absl::Status s = client.SetupAll(Transport::kTcpInterleaved, kStep); !s.ok()) return s;
    if (absl::Status s = client.Play(kStep).status(); !s.ok()) return s;
    return client.ReadMedia(duration);
  }
  static void ExpectError(const grpc::Status& status, grpc::StatusCode code,
                          const std::string& message) {
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    EXPECT_EQ(status.error_message(), message);
  }

  static ServerProcess* server_;
  static v1::ControlService::Stub* stub_;
  static v1::ControlService::Stub* named_stub_;
};

ServerProcess* ControlApiTest::server_ = nullptr;
v1::ControlService::Stub* ControlApiTest::stub_ = nullptr;
v1::ControlService::Stub* ControlApiTest::named_stub_ = nullptr;

TEST_F(ControlApiTest, CreatedStreamPlaysThenDeleteClosesItsReaderAndUnmountsIt) {
  Stream spec = TestPattern("/live");
  spec.add_listeners("lo");
  spec.add_listeners("any");
  v1::StreamStatus created;
  grpc::Status status = Create(spec, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(created.spec().path(), "/live");
  EXPECT_TRUE(created.report().state() == v1::STREAM_STATE_STARTING ||
              created.report().state() == v1::STREAM_STATE_LIVE)
      << v1::StreamState_Name(created.report().state());
  EXPECT_EQ(created.report().parameters().at("fps"), "15");
  EXPECT_EQ(created.report().parameters().at("pattern"), "smpte");  // a default, filled in
  const std::vector<std::string> urls = {
      Url("lo", "/live"), absl::StrCat("rtsp://127.0.0.1:", server_->port("any"), "/live")};
  EXPECT_EQ(std::vector<std::string>(created.urls().begin(), created.urls().end()), urls);
  // A caller that reached the control port by name gets that name for the
  // wildcard listener; the loopback one stays on its address.
  v1::StreamStatus named;
  ASSERT_TRUE(Get("/live", &named, named_stub_).ok());
  EXPECT_EQ(
      std::vector<std::string>(named.urls().begin(), named.urls().end()),
      (std::vector<std::string>{Url("lo", "/live"), absl::StrCat("rtsp://", kOtherHost, ":",
                                                                 server_->port("any"), "/live")}));

  // ffprobe reads it as created.
  const std::string command = absl::StrCat(
      "timeout 30 /usr/bin/ffprobe -v error -rtsp_transport tcp -select_streams v:0 "
      "-show_entries stream=codec_name,width,height -of default=noprint_wrappers=1 '",
      created.urls(0), "' 2>&1");
  auto [probe, exit_code] = RunShell(command);
  EXPECT_EQ(exit_code, 0) << command << "\n" << probe;
  EXPECT_NE(probe.find("codec_name=h264"), std::string::npos) << probe;
  EXPECT_NE(probe.find("width=320"), std::string::npos) << probe;
  EXPECT_NE(probe.find("height=240"), std::string::npos) << probe;

  // rtspsrc decodes frames, on both listeners.
  for (const std::string& url : urls) {
    RtspReader reader(url, RtspProtocol::kTcp);
    ASSERT_TRUE(reader.Start().ok());
    absl::Status decoded = reader.WaitForMedia(10, 0, absl::Seconds(20));
    EXPECT_TRUE(decoded.ok()) << url << ": " << decoded;
    EXPECT_EQ(reader.media().width, 320);
    EXPECT_EQ(reader.media().height, 240);
  }

  // GetStream and ListStreams show it, with its URLs and a reader.
  RtspClient playing(urls[0]);
  ASSERT_TRUE(playing.Connect(kStep).ok());
  ASSERT_TRUE(playing.Describe(kStep).ok());
  ASSERT_TRUE(playing.SetupAll(Transport::kTcpInterleaved, kStep).ok());
  ASSERT_TRUE(playing.Play(kStep).ok());
  absl::StatusOr<int64_t> packets = playing.ReadMedia(absl::Milliseconds(500));
  ASSERT_TRUE(packets.ok()) << packets.status();
  EXPECT_GT(*packets, 0);
  v1::StreamStatus got = PollStream(
      "/live", [](const v1::StreamStatus& s) { return s.report().readers() >= 1; }, kStep);
  EXPECT_EQ(got.report().readers(), 1u);
  EXPECT_EQ(got.urls_size(), 2);
  v1::ListStreamsResponse list;
  ASSERT_TRUE(stub_->ListStreams(Context().get(), v1::ListStreamsRequest(), &list).ok());
  bool listed = false;
  for (const v1::StreamStatus& s : list.streams()) {
    if (s.spec().path() == "/live") {
      listed = true;
      EXPECT_EQ(s.urls_size(), 2);
    }
  }
  EXPECT_TRUE(listed);

  // Delete: the playing reader's connection is closed by the server.
  status = Delete("/live");
  ASSERT_TRUE(status.ok()) << status.error_message();
  const absl::Time deleted = absl::Now();
  absl::StatusOr<int64_t> rest = playing.ReadMedia(kStep);
  EXPECT_FALSE(rest.ok()) << "the reader was still served " << *rest << " packets";
  if (!rest.ok()) {
    EXPECT_EQ(rest.status().message(), "server closed the connection");
  }
  EXPECT_LT(absl::Now() - deleted, kStep);

  absl::Status describe = Describe(urls[0]);
  EXPECT_EQ(describe.code(), absl::StatusCode::kFailedPrecondition) << describe;
  EXPECT_TRUE(absl::StrContains(describe.message(), "404")) << describe;
  v1::StreamStatus gone;
  ExpectError(Get("/live", &gone), grpc::StatusCode::NOT_FOUND, "stream /live: no such stream");
  // The server goes on serving.
  absl::StatusOr<int64_t> other = PlayFor(Url("lo", "/static"), absl::Seconds(1));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_GT(*other, 0);
  // And the path is free again.
  EXPECT_TRUE(Create(TestPattern("/live")).ok());
  EXPECT_TRUE(Delete("/live").ok());
}

TEST_F(ControlApiTest, FiftyConcurrentCreatesOfOnePathMakeOneStream) {
  constexpr int kCalls = 50;
  absl::Notification go;
  std::vector<grpc::Status> results(kCalls);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      go.WaitForNotification();
      results[i] = Create(TestPattern("/race"));
    });
  }
  go.Notify();
  for (std::thread& thread : threads) thread.join();
  int ok = 0, already_exists = 0;
  for (const grpc::Status& status : results) {
    if (status.ok()) ++ok;
    if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
      ++already_exists;
      EXPECT_EQ(status.error_message(), "stream /race: path already in use");
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(already_exists, kCalls - 1);
  absl::StatusOr<int64_t> packets = PlayFor(Url("lo", "/race"), absl::Seconds(1));
  ASSERT_TRUE(packets.ok()) << packets.status();
  EXPECT_GT(*packets, 0);
  EXPECT_TRUE(Delete("/race").ok());
}

TEST_F(ControlApiTest, ErrorsCarryTheirCodeAndNameTheFieldAndValue) {
  Stream relative = TestPattern("cam1");
  ExpectError(Create(relative), grpc::StatusCode::INVALID_ARGUMENT,
              "stream.path: 'cam1' must start with '/'");
  Stream bad_fps = TestPattern("/e-fps");
  (*bad_fps.mutable_parameters())["fps"] = "0";
  ExpectError(Create(bad_fps), grpc::StatusCode::INVALID_ARGUMENT,
              "stream /e-fps: plugin testpattern: parameter fps=0: must be in 1..120");
  Stream unknown_listener = TestPattern("/e-listener");
  unknown_listener.add_listeners("nope");
  ExpectError(Create(unknown_listener), grpc::StatusCode::INVALID_ARGUMENT,
              "stream.listeners[0]: no listener named 'nope' (have: lo, any)");
  Stream unknown_plugin = TestPattern("/e-plugin");
  unknown_plugin.set_plugin("nosuchplugin");
  grpc::Status no_plugin = Create(unknown_plugin);
  EXPECT_EQ(no_plugin.error_code(), grpc::StatusCode::NOT_FOUND) << no_plugin.error_message();
  EXPECT_TRUE(absl::StartsWith(no_plugin.error_message(), "stream /e-plugin: plugin nosuchplugin"))
      << no_plugin.error_message();
  ExpectError(Create(TestPattern("/static")), grpc::StatusCode::ALREADY_EXISTS,
              "stream /static: path already in use");

  v1::StreamStatus out;
  ExpectError(Get("/nope", &out), grpc::StatusCode::NOT_FOUND, "stream /nope: no such stream");
  ExpectError(Get("", &out), grpc::StatusCode::INVALID_ARGUMENT, "path: is empty");
  ExpectError(Delete("/nope"), grpc::StatusCode::NOT_FOUND, "stream /nope: no such stream");

  v1::UpdateStreamRequest update;
  update.mutable_stream()->set_path("/static");
  update.mutable_update_mask()->add_paths("fps");
  ExpectError(stub_->UpdateStream(Context().get(), update, &out),
              grpc::StatusCode::INVALID_ARGUMENT,
              "update_mask.paths[0]: unknown field 'fps' (have: plugin, parameters, "
              "parameters.<name>, listeners, description, auth; the path cannot change)");
  update.mutable_stream()->set_path("/nope");
  update.mutable_update_mask()->Clear();
  ExpectError(stub_->UpdateStream(Context().get(), update, &out), grpc::StatusCode::NOT_FOUND,
              "stream /nope: no such stream");

  v1::ListStreamsRequest list;
  v1::ListStreamsResponse page;
  list.set_page_size(1001);
  ExpectError(stub_->ListStreams(Context().get(), list, &page), grpc::StatusCode::INVALID_ARGUMENT,
              "page_size: 1001 is out of range (0..1000; 0 = 100)");
  list.set_page_size(-1);
  EXPECT_EQ(stub_->ListStreams(Context().get(), list, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  list.set_page_size(0);
  list.set_page_token("not a token");
  ExpectError(stub_->ListStreams(Context().get(), list, &page), grpc::StatusCode::INVALID_ARGUMENT,
              "page_token: 'not a token' is not a token from a previous page");

  v1::ApplyStreamsRequest twice;
  *twice.add_upsert() = TestPattern("/twice");
  twice.add_delete_("/twice");
  v1::ApplyStreamsResponse applied;
  ExpectError(stub_->ApplyStreams(Context().get(), twice, &applied),
              grpc::StatusCode::INVALID_ARGUMENT,
              "delete[0]: '/twice' is listed twice (also upsert[0].path)");
  EXPECT_EQ(Get("/twice", &out).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ControlApiTest, DeleteWhileTheStreamIsBeingCreatedIsFailedPrecondition) {
  // A large x264 stream takes a while to build; delete polls until the path
  // is reserved. Until then it is NOT_FOUND; while the build runs it must be
  // FAILED_PRECONDITION, never OK.
  Stream slow = TestPattern("/slow", 30);
  (*slow.mutable_parameters())["width"] = "1920";
  (*slow.mutable_parameters())["height"] = "1080";
  std::atomic<bool> created{false};
  absl::Notification started;
  grpc::Status create_status;
  std::thread creator([&] {
    started.Notify();
    create_status = Create(slow);
    created = true;
  });
  started.WaitForNotification();
  grpc::Status seen;
  const absl::Time deadline = absl::Now() + kStep;
  while (!created.load() && absl::Now() < deadline) {
    seen = Delete("/slow");
    if (seen.error_code() != grpc::StatusCode::NOT_FOUND) break;
  }
  creator.join();
  ASSERT_TRUE(create_status.ok()) << create_status.error_message();
  ExpectError(seen, grpc::StatusCode::FAILED_PRECONDITION, "stream /slow: still being created");
  EXPECT_TRUE(Delete("/slow").ok());
}

TEST_F(ControlApiTest, PluginCreateFailureStaysWithItsStream) {
  grpc::Status failed = Create(BadPipeline("/broken"));
  EXPECT_EQ(failed.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << failed.error_message();
  EXPECT_TRUE(absl::StartsWith(failed.error_message(), "stream /broken: plugin pipeline: "))
      << failed.error_message();
  EXPECT_TRUE(absl::StrContains(failed.error_message(), "nosuchelement_xyz"))
      << failed.error_message();
  v1::StreamStatus out;
  EXPECT_EQ(Get("/broken", &out).error_code(), grpc::StatusCode::NOT_FOUND);
  absl::StatusOr<int64_t> packets = PlayFor(Url("lo", "/static"), absl::Seconds(1));
  ASSERT_TRUE(packets.ok()) << packets.status();
  EXPECT_GT(*packets, 0);
  v1::StreamStatus still;
  ASSERT_TRUE(Get("/static", &still).ok());
  EXPECT_NE(still.report().state(), v1::STREAM_STATE_FAILED);
}

TEST_F(ControlApiTest, UpdateWithAMaskChangesTheMeasuredFrameRate) {
  ASSERT_TRUE(Create(TestPattern("/upd", 5)).ok());
  auto near = [](double fps, double want) { return fps > want * 0.8 && fps < want * 1.2; };
  v1::StreamStatus before = PollStream(
      "/upd", [&](const v1::StreamStatus& s) { return near(s.report().fps(), 5); },
      absl::Seconds(20));
  EXPECT_TRUE(near(before.report().fps(), 5)) << before.report().fps();

  v1::UpdateStreamRequest update;
  update.mutable_stream()->set_path("/upd");
  (*update.mutable_stream()->mutable_parameters())["fps"] = "25";
  update.mutable_update_mask()->add_paths("parameters.fps");
  v1::StreamStatus updated;
  grpc::Status status = stub_->UpdateStream(Context().get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.spec().parameters().at("fps"), "25");
  EXPECT_EQ(updated.spec().parameters().at("width"), "320");  // untouched by the mask
  EXPECT_EQ(updated.report().parameters().at("fps"), "25");

  v1::StreamStatus after = PollStream(
      "/upd", [&](const v1::StreamStatus& s) { return near(s.report().fps(), 25); },
      absl::Seconds(20));
  EXPECT_TRUE(near(after.report().fps(), 25)) << after.report().fps();

  // A failing update leaves the stream serving as it was.
  v1::UpdateStreamRequest broken;
  *broken.mutable_stream() = BadPipeline("/upd");
  v1::StreamStatus ignored;
  status = stub_->UpdateStream(Context().get(), broken, &ignored);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  v1::StreamStatus kept;
  ASSERT_TRUE(Get("/upd", &kept).ok());
  EXPECT_EQ(kept.spec().plugin(), "testpattern");
  EXPECT_EQ(kept.spec().parameters().at("fps"), "25");
  absl::StatusOr<int64_t> packets = PlayFor(Url("lo", "/upd"), absl::Seconds(1));
  ASSERT_TRUE(packets.ok()) << packets.status();
  EXPECT_GT(*packets, 0);
  EXPECT_TRUE(Delete("/upd").ok());
}

TEST_F(ControlApiTest, ApplyReportsEachItemInOrder) {
  ASSERT_TRUE(Create(TestPattern("/a-replace")).ok());
  ASSERT_TRUE(Create(TestPattern("/a-gone")).ok());
  v1::StreamStatus statik;
  ASSERT_TRUE(Get("/static", &statik).ok());

  v1::ApplyStreamsRequest request;
  *request.add_upsert() = TestPattern("/a-new");
  Stream replaced = TestPattern("/a-replace");
  replaced.set_description("replaced by apply");
  *request.add_upsert() = replaced;
  *request.add_upsert() = statik.spec();
  *request.add_upsert() = BadPipeline("/a-broken");
  *request.add_upsert() = TestPattern("a-relative");
  request.add_delete_("/a-gone");
  request.add_delete_("/a-missing");
  v1::ApplyStreamsResponse response;
  grpc::Status status = stub_->ApplyStreams(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 7);
  struct Want {
    std::string path;
    v1::ApplyResult::Action action;
    grpc::StatusCode code;
  };
  const std::vector<Want> want = {
      {"/a-new", v1::ApplyResult::CREATED, grpc::StatusCode::OK},
      {"/a-replace", v1::ApplyResult::REPLACED, grpc::StatusCode::OK},
      {"/static", v1::ApplyResult::UNCHANGED, grpc::StatusCode::OK},
      {"/a-broken", v1::ApplyResult::FAILED, grpc::StatusCode::INVALID_ARGUMENT},
      {"a-relative", v1::ApplyResult::FAILED, grpc::StatusCode::INVALID_ARGUMENT},
      {"/a-gone", v1::ApplyResult::DELETED, grpc::StatusCode::OK},
      {"/a-missing", v1::ApplyResult::FAILED, grpc::StatusCode::NOT_FOUND},
  };
  for (size_t i = 0; i < want.size(); ++i) {
    const v1::ApplyResult& result = response.results(static_cast<int>(i));
    EXPECT_EQ(result.path(), want[i].path) << i;
    EXPECT_EQ(result.action(), want[i].action)
        << i << ": " << v1::ApplyResult::Action_Name(result.action()) << " " << result.message();
    EXPECT_EQ(result.code(), static_cast<int>(want[i].code)) << i << ": " << result.message();
  }
  EXPECT_EQ(response.results(4).message(), "upsert[4].path: 'a-relative' must start with '/'");
  EXPECT_EQ(response.results(6).message(), "stream /a-missing: no such stream");

  v1::StreamStatus out;
  ASSERT_TRUE(Get("/a-replace", &out).ok());
  EXPECT_EQ(out.spec().description(), "replaced by apply");
  EXPECT_TRUE(Get("/a-new", &out).ok());
  EXPECT_EQ(Get("/a-gone", &out).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Get("/a-broken", &out).error_code(), grpc::StatusCode::NOT_FOUND);
  absl::StatusOr<int64_t> packets = PlayFor(Url("lo", "/a-new"), absl::Seconds(1));
  ASSERT_TRUE(packets.ok()) << packets.status();
  EXPECT_GT(*packets, 0);
  EXPECT_TRUE(Delete("/a-new").ok());
  EXPECT_TRUE(Delete("/a-replace").ok());
}

TEST_F(ControlApiTest, ListStreamsPagesByPath) {
  for (const char* path : {"/p-3", "/p-1", "/p-2"}) ASSERT_TRUE(Create(TestPattern(path)).ok());
  v1::ListStreamsResponse all;
  ASSERT_TRUE(stub_->ListStreams(Context().get(), v1::ListStreamsRequest(), &all).ok());
  EXPECT_TRUE(all.next_page_token().empty());
  std::vector<std::string> expected;
  for (const v1::StreamStatus& s : all.streams()) expected.push_back(s.spec().path());
  EXPECT_TRUE(std::is_sorted(expected.begin(), expected.end()));

  std::vector<std::string> paged;
  v1::ListStreamsRequest request;
  request.set_page_size(2);
  for (int pages = 0; pages < 100; ++pages) {
    v1::ListStreamsResponse page;
    grpc::Status status = stub_->ListStreams(Context().get(), request, &page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_LE(page.streams_size(), 2);
    for (const v1::StreamStatus& s : page.streams()) paged.push_back(s.spec().path());
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  EXPECT_EQ(paged, expected);
  for (const char* path : {"/p-1", "/p-2", "/p-3"}) EXPECT_TRUE(Delete(path).ok());
}

TEST_F(ControlApiTest, ListPluginsDescribesTheBuiltinsWithTheirSchemas) {
  v1::ListPluginsResponse response;
  ASSERT_TRUE(stub_->ListPlugins(Context().get(), v1::ListPluginsRequest(), &response).ok());
  std::set<std::string> names;
  for (const v1::PluginInfo& plugin : response.plugins()) {
    names.insert(plugin.name());
    EXPECT_FALSE(plugin.version().empty()) << plugin.name();
    EXPECT_TRUE(absl::EndsWith(plugin.path(), absl::StrCat("/lib", plugin.name(), ".so")))
        << plugin.path();
    if (plugin.name() == "testpattern") {
      bool fps = false;
      for (const v1::ParameterSpec& p : plugin.parameters()) {
        if (p.name() != "fps") continue;
        fps = true;
        EXPECT_EQ(p.type(), "int");
        EXPECT_EQ(p.default_value(), "30");
        EXPECT_FALSE(p.required());
        EXPECT_EQ(p.min(), 1);
        EXPECT_EQ(p.max(), 120);
      }
      EXPECT_TRUE(fps);
    }
    if (plugin.name() == "pipeline") {
      ASSERT_GE(plugin.parameters_size(), 1);
      EXPECT_EQ(plugin.parameters(0).name(), "description");
      EXPECT_TRUE(plugin.parameters(0).required());
    }
  }
  for (const char* name : {"testpattern", "file", "pipeline"}) {
    EXPECT_EQ(names.count(name), 1u) << name;
  }
  EXPECT_EQ(response.failed_size(), 0);
}

TEST_F(ControlApiTest, ServerInfoHasVersionBuildListenersAndUptime) {
  v1::ServerInfo info;
  // healthy follows the first probe round, which may not have finished yet.
  const absl::Time deadline = absl::Now() + kStep;
  do {
    info.Clear();
    ASSERT_TRUE(
        named_stub_->GetServerInfo(Context().get(), v1::GetServerInfoRequest(), &info).ok());
    if (info.listeners_size() == 2 && info.listeners(0).healthy() && info.listeners(1).healthy()) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() < deadline);
  EXPECT_FALSE(info.version().empty());
  EXPECT_TRUE(absl::StartsWith(info.build(), "plugin ABI 1.0, GStreamer 1.")) << info.build();
  EXPECT_TRUE(info.uptime().seconds() > 0 || info.uptime().nanos() > 0);
  EXPECT_GT(info.started_at().seconds(), 0);
  ASSERT_EQ(info.listeners_size(), 2);
  EXPECT_EQ(info.listeners(0).name(), "lo");
  EXPECT_EQ(info.listeners(0).port(), static_cast<uint32_t>(server_->port("lo")));
  EXPECT_TRUE(info.listeners(0).bound());
  EXPECT_TRUE(info.listeners(0).healthy());
  EXPECT_EQ(info.listeners(0).url(), absl::StrCat("rtsp://127.0.0.1:", server_->port("lo")));
  EXPECT_EQ(info.listeners(1).name(), "any");
  EXPECT_EQ(info.listeners(1).bind_address(), "0.0.0.0");
  EXPECT_EQ(info.listeners(1).port(), static_cast<uint32_t>(server_->port("any")));
  EXPECT_TRUE(info.listeners(1).healthy());
  EXPECT_EQ(info.listeners(1).url(),
            absl::StrCat("rtsp://", kOtherHost, ":", server_->port("any")));
}

}  // namespace
}  // namespace rtsptest::testing
