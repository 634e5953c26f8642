// --state_file end to end: the real rtsp_test_server, a real gRPC client and
// a real RTSP client. Streams created through the API come back after a
// restart and play; a deleted config stream stays deleted; a corrupt file is
// set aside with a logged error; and a kill -9 in the middle of a burst of
// concurrent CreateStream calls loses no create that was acknowledged.
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "control/state/state_file.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rtsptest/control/v1/control.grpc.pb.h"
#include "tests/e2e/server_process.h"
#include "tests/util/subprocess.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

namespace v1 = ::rtsptest::control::v1;
using config::v1::Stream;

constexpr absl::Duration kRpcTimeout = absl::Seconds(20);
constexpr absl::Duration kStep = absl::Seconds(10);

// /static comes from the config file.
constexpr char kConfig[] = R"yaml(
listeners:
  - {name: lo, bind_address: 127.0.0.1, port: 0}
streams:
  - path: /static
    plugin: testpattern
    parameters: {width: 16, height: 16, fps: 2, codec: mjpeg, overlay: false}
drain_timeout: 0s
)yaml";

// A cheap stream: many of them must fit on a small CI machine.
Stream Tiny(const std::string& path) {
  Stream stream;
  stream.set_path(path);
  stream.set_plugin("testpattern");
  auto& p = *stream.mutable_parameters();
  p["width"] = "16";
  p["height"] = "16";
  p["fps"] = "1";
  p["codec"] = "mjpeg";
  p["overlay"] = "false";
  return stream;
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + kRpcTimeout));
  return context;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class StatePersistenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(std::getenv("TEST_TMPDIR"), "/",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0) << dir_;
    state_file_ = dir_ + "/state.json";
  }

  // Starts a server on the state file; `server_` and `stub_` address it.
  void StartServer(absl::Duration timeout = absl::Seconds(60)) {
    server_ = std::make_unique<ServerProcess>();
    absl::Status started =
        server_->StartWithConfig(kConfig, {absl::StrCat("--state_file=", state_file_)}, timeout);
    ASSERT_TRUE(started.ok()) << started << "\n" << server_->output();
    stub_ = v1::ControlService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->grpc_port()), grpc::InsecureChannelCredentials()));
  }
  void StopServer() {
    absl::StatusOr<int> code = server_->Stop(SIGTERM);
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 0) << server_->output();
  }

  grpc::Status Create(const Stream& stream) {
    v1::CreateStreamRequest request;
    *request.mutable_stream() = stream;
    v1::StreamStatus response;
    return stub_->CreateStream(Context().get(), request, &response);
  }
  grpc::Status Get(const std::string& path, v1::StreamStatus* out) {
    v1::GetStreamRequest request;
    request.set_path(path);
    return stub_->GetStream(Context().get(), request, out);
  }
  grpc::Status Delete(const std::string& path) {
    v1::DeleteStreamRequest request;
    request.set_path(path);
    v1::DeleteStreamResponse response;
    return stub_->DeleteStream(Context().get(), request, &response);
  }
  std::set<std::string> ListPaths() {
    std::set<std::string> paths;
    v1::ListStreamsRequest request;
    request.set_page_size(1000);
    v1::ListStreamsResponse response;
    grpc::Status status = stub_->ListStreams(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    for (const v1::StreamStatus& stream : response.streams()) paths.insert(stream.spec().path());
    return paths;
  }
  absl::Status Describe(const std::string& path) {
    tools::RtspClient client(server_->url("lo", path));
    if (absl::Status s = client.Connect(kStep); !s.ok()) return s;
    return client.Describe(kStep).status();
  }

  std::string dir_;
  std::string state_file_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::ControlService::Stub> stub_;
};

TEST_F(StatePersistenceTest, CreatedStreamIsBackAfterRestartAndPlays) {
  StartServer();
  Stream spec = Tiny("/kept");
  spec.set_description("made through the API");
  ASSERT_TRUE(Create(spec).ok());
  StopServer();

  StartServer();
  v1::StreamStatus got;
  grpc::Status status = Get("/kept", &got);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << server_->output();
  EXPECT_EQ(got.spec().description(), "made through the API");
  EXPECT_EQ(got.spec().parameters().at("codec"), "mjpeg");
  EXPECT_TRUE(Describe("/kept").ok()) << server_->output();
  EXPECT_TRUE(Describe("/static").ok());
  EXPECT_TRUE(server_->WaitForOutput("state file restored", absl::Seconds(1)));
}

TEST_F(StatePersistenceTest, FileIsMode0600VersionedJson) {
  StartServer();
  ASSERT_TRUE(Create(Tiny("/secret")).ok());
  struct stat info;
  ASSERT_EQ(stat(state_file_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  const std::string text = ReadAll(state_file_);
  EXPECT_TRUE(absl::StrContains(text, "\"version\": 1")) << text;
  EXPECT_TRUE(absl::StrContains(text, "\"/secret\"")) << text;
  absl::StatusOr<state::v1::StateFile> parsed = control::ReadStateFile(state_file_);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->streams_size(), 1);
  EXPECT_EQ(parsed->streams(0).path(), "/secret");
}

TEST_F(StatePersistenceTest, DeletedConfigStreamStaysDeletedAfterRestart) {
  StartServer();
  ASSERT_TRUE(Delete("/static").ok());
  // An API stream deleted again leaves no trace.
  ASSERT_TRUE(Create(Tiny("/brief")).ok());
  ASSERT_TRUE(Delete("/brief").ok());
  absl::StatusOr<state::v1::StateFile> parsed = control::ReadStateFile(state_file_);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->streams_size(), 0);
  ASSERT_EQ(parsed->deleted_paths_size(), 1);
  EXPECT_EQ(parsed->deleted_paths(0), "/static");
  StopServer();

  StartServer();
  v1::StreamStatus got;
  EXPECT_EQ(Get("/static", &got).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Get("/brief", &got).error_code(), grpc::StatusCode::NOT_FOUND);
  // Created again through the API, it is an API stream from then on.
  ASSERT_TRUE(Create(Tiny("/static")).ok());
  StopServer();
  StartServer();
  EXPECT_TRUE(Get("/static", &got).ok());
}

TEST_F(StatePersistenceTest, UpdatedConfigStreamKeepsItsNewSpec) {
  StartServer();
  v1::UpdateStreamRequest request;
  request.mutable_stream()->set_path("/static");
  request.mutable_stream()->set_description("changed");
  request.mutable_update_mask()->add_paths("description");
  v1::StreamStatus response;
  grpc::Status status = stub_->UpdateStream(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  StopServer();
  StartServer();
  v1::StreamStatus got;
  ASSERT_TRUE(Get("/static", &got).ok());
  EXPECT_EQ(got.spec().description(), "changed");
}

TEST_F(StatePersistenceTest, CorruptFileIsSetAsideWithALoggedError) {
  { std::ofstream(state_file_) << "{\"version\": 1, \"streams\": [ {\"path\": "; }
  StartServer();
  EXPECT_TRUE(server_->WaitForOutput("state file unreadable", absl::Seconds(1)))
      << server_->output();
  const std::string output = server_->output();
  EXPECT_TRUE(absl::StrContains(output, state_file_)) << output;
  EXPECT_TRUE(absl::StrContains(output, "\"level\":\"error\"")) << output;
  // Set aside, not deleted; the server started with the config's streams.
  struct stat info;
  EXPECT_NE(stat(state_file_.c_str(), &info), 0);
  bool found = false;
  std::string aside;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (!absl::StrContains(line, "state file unreadable")) continue;
    const size_t at = line.find(".corrupt-");
    ASSERT_NE(at, std::string::npos) << line;
    aside = absl::StrCat(state_file_, line.substr(at, line.find('"', at) - at));
    found = true;
  }
  ASSERT_TRUE(found);
  EXPECT_EQ(stat(aside.c_str(), &info), 0) << aside;
  EXPECT_EQ(ReadAll(aside), "{\"version\": 1, \"streams\": [ {\"path\": ");
  EXPECT_EQ(ListPaths(), std::set<std::string>{"/static"});
  // And the store works on from an empty state.
  ASSERT_TRUE(Create(Tiny("/after")).ok());
  EXPECT_TRUE(control::ReadStateFile(state_file_).ok());
}

TEST_F(StatePersistenceTest, RestoredStreamThatFailsIsLoggedAndTheServerStarts) {
  state::v1::StateFile state;
  Stream gone = Tiny("/gone");
  gone.set_plugin("no_such_plugin");
  *state.add_streams() = gone;
  *state.add_streams() = Tiny("/fine");
  ASSERT_TRUE(control::WriteStateFile(state_file_, state).ok());
  StartServer();
  EXPECT_TRUE(server_->WaitForOutput("state file stream not restored", absl::Seconds(1)))
      << server_->output();
  EXPECT_EQ(ListPaths(), (std::set<std::string>{"/fine", "/static"}));
}

// Write failure policy: the RPC fails with INTERNAL naming the file, the
// change stays in effect, and the next successful write includes it.
TEST_F(StatePersistenceTest, FailedWriteFailsTheRpcAndTheNextWriteCatchesUp) {
  const std::string sub = dir_ + "/sub";
  const std::string moved = dir_ + "/moved";
  ASSERT_EQ(mkdir(sub.c_str(), 0700), 0);
  state_file_ = sub + "/state.json";
  StartServer();
  // The directory goes away under the server: no temporary file can be made.
  ASSERT_EQ(rename(sub.c_str(), moved.c_str()), 0);
  grpc::Status status = Create(Tiny("/unsaved"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), state_file_)) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "not saved")) << status.error_message();
  v1::StreamStatus got;
  EXPECT_TRUE(Get("/unsaved", &got).ok());
  ASSERT_EQ(rename(moved.c_str(), sub.c_str()), 0);
  ASSERT_TRUE(Create(Tiny("/saved")).ok());
  absl::StatusOr<state::v1::StateFile> parsed = control::ReadStateFile(state_file_);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->streams_size(), 2);
  EXPECT_EQ(parsed->streams(0).path(), "/saved");
  EXPECT_EQ(parsed->streams(1).path(), "/unsaved");
}

// A protected stream made through the API keeps its credentials across a
// restart: the file holds the password, the log never does.
TEST_F(StatePersistenceTest, ProtectedStreamComesBackProtected) {
  constexpr char kPassword[] = "Persisted-Pw-61c0";
  StartServer();
  Stream spec = Tiny("/locked");
  spec.mutable_auth()->set_method(config::v1::StreamAuth::DIGEST);
  spec.mutable_auth()->set_username("erin");
  spec.mutable_auth()->set_password(kPassword);
  ASSERT_TRUE(Create(spec).ok());
  EXPECT_TRUE(absl::StrContains(ReadAll(state_file_), kPassword));
  StopServer();
  StartServer();
  v1::StreamStatus got;
  ASSERT_TRUE(Get("/locked", &got).ok());
  EXPECT_EQ(got.spec().auth().username(), "erin");
  EXPECT_EQ(got.spec().auth().password(), "");
  absl::Status anonymous = Describe("/locked");
  EXPECT_FALSE(anonymous.ok());
  EXPECT_TRUE(absl::StrContains(anonymous.message(), "401")) << anonymous;
  const std::string url =
      absl::StrCat("rtsp://erin:", kPassword, "@127.0.0.1:", server_->port("lo"), "/locked");
  auto [probe, code] = RunShell(absl::StrCat(
      "timeout 30 /usr/bin/ffprobe -v error -rtsp_transport tcp -show_entries stream=codec_name "
      "-of default=noprint_wrappers=1 '",
      url, "' 2>&1"));
  EXPECT_EQ(code, 0) << probe;
  EXPECT_TRUE(absl::StrContains(probe, "codec_name=mjpeg")) << probe;
  EXPECT_FALSE(absl::StrContains(server_->output(), kPassword));
}

// Every CreateStream answered OK before the kill is in the file, and back
// after the restart; the file always parses.
TEST_F(StatePersistenceTest, KillDuringCreateBurstLosesNoAcknowledgedCreate) {
  StartServer();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  absl::Mutex mutex;
  std::set<std::string> acknowledged;
  std::atomic<int> ok_count{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string path = absl::StrCat("/burst-", t, "-", i);
        if (Create(Tiny(path)).ok()) {
          absl::MutexLock lock(&mutex);
          acknowledged.insert(path);
          ++ok_count;
        }
      }
    });
  }
  // Kill in the middle of the burst.
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (ok_count.load() < 60 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_GE(ok_count.load(), 60);
  absl::StatusOr<int> killed = server_->Stop(SIGKILL);
  ASSERT_TRUE(killed.ok()) << killed.status();
  for (std::thread& thread : threads) thread.join();
  std::set<std::string> acked;
  {
    absl::MutexLock lock(&mutex);
    acked = acknowledged;
  }
  ASSERT_LT(acked.size(), static_cast<size_t>(kThreads * kPerThread)) << "killed too late";

  absl::StatusOr<state::v1::StateFile> parsed = control::ReadStateFile(state_file_);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  std::set<std::string> in_file;
  for (const Stream& stream : parsed->streams()) in_file.insert(stream.path());
  for (const std::string& path : acked) EXPECT_EQ(in_file.count(path), 1u) << path;

  StartServer(absl::Seconds(120));
  const std::set<std::string> listed = ListPaths();
  for (const std::string& path : acked) EXPECT_EQ(listed.count(path), 1u) << path;
  EXPECT_TRUE(Describe(*acked.begin()).ok());
}

}  // namespace
}  // namespace rtsptest::testing
