// Faults end to end: InjectFault, ClearFaults and ListFaults on the real
// rtsp_test_server, each fault observed by a real client through the real
// server: a raw RTSP reader (tools/rtsp_client) counts RTP by sequence
// number, sees a stall and a disconnect, and gets the injected RTSP status;
// raw TCP connects and grpc.health.v1 see listener faults; WatchEvents sees
// every fault start, fire and clear, with its reason.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rtsptest/control/v1/control.grpc.pb.h"
#include "tests/e2e/server_process.h"
#include "tests/util/event_watcher.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

namespace v1 = ::rtsptest::control::v1;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr absl::Duration kStep = absl::Seconds(10);

// Two cheap streams: MJPEG, every frame a key frame, 25 frames a second
// (several RTP packets each), so that a window of a second holds hundreds.
constexpr char kStreams[] = R"yaml(
streams:
  - path: /a
    plugin: testpattern
    parameters: {codec: mjpeg, width: 320, height: 240, fps: 25, overlay: false}
  - path: /b
    plugin: testpattern
    parameters: {codec: mjpeg, width: 320, height: 240, fps: 25, overlay: false}
drain_timeout: 0s
)yaml";

// "type id fault reason" of a fault event, for readable comparisons.
std::string Summary(const v1::Event& event) {
  auto field = [&event](const std::string& name) {
    auto it = event.fields().find(name);
    return it == event.fields().end() ? std::string("-") : it->second;
  };
  return absl::StrCat(event.type(), " ", field("id"), " ", field("fault"), " ", field("reason"));
}

// RTP packets of a window counted by sequence number: how many arrived of
// the span from the first to the last one seen (16-bit wrap unrolled).
struct SequenceCount {
  int64_t received = 0;
  int64_t first = -1;
  int64_t last = -1;

  void Add(absl::string_view rtp) {
    if (rtp.size() < 12) return;
    const uint16_t seq =
        static_cast<uint16_t>((static_cast<uint8_t>(rtp[2]) << 8) | static_cast<uint8_t>(rtp[3]));
    if (first < 0) {
      first = last = seq;
    } else {
      const int16_t delta = static_cast<int16_t>(seq - static_cast<uint16_t>(last & 0xffff));
      if (delta > 0) last += delta;
    }
    ++received;
  }
  int64_t span() const { return first < 0 ? 0 : last - first + 1; }
  double ratio() const { return span() == 0 ? 0 : static_cast<double>(received) / span(); }
};

// A TCP connect to 127.0.0.1:`port`; returns the errno it failed with (0:
// connected, and `*fd` is the socket).
int ConnectTcp(int port, int* fd) {
  *fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(*fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) return 0;
  const int error = errno;
  close(*fd);
  *fd = -1;
  return error;
}

class FaultApiTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& yaml) {
    ASSERT_TRUE(server_.StartWithConfig(yaml).ok()) << server_.output();
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_.grpc_port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::ControlService::NewStub(channel_);
    health_ = grpc::health::v1::Health::NewStub(channel_);
  }
  void SetUp() override {
    StartServer(
        absl::StrCat("listeners:\n  - {name: lo, bind_address: 127.0.0.1, port: 0}\n", kStreams));
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + kStep));
    return context;
  }
  grpc::Status Inject(const v1::FaultSpec& spec, v1::Fault* fault) {
    v1::InjectFaultRequest request;
    *request.mutable_fault() = spec;
    return stub_->InjectFault(Context().get(), request, fault);
  }
  grpc::Status Clear(const v1::ClearFaultsRequest& request, v1::ClearFaultsResponse* response) {
    return stub_->ClearFaults(Context().get(), request, response);
  }
  std::vector<v1::Fault> List() {
    v1::ListFaultsResponse response;
    grpc::Status status = stub_->ListFaults(Context().get(), v1::ListFaultsRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.faults().begin(), response.faults().end()};
  }
  static v1::FaultSpec StreamFault(const std::string& kind, const std::string& stream) {
    v1::FaultSpec spec;
    spec.set_kind(kind);
    spec.set_stream(stream);
    return spec;
  }
  static v1::FaultSpec ListenerFault(const std::string& kind, const std::string& listener) {
    v1::FaultSpec spec;
    spec.set_kind(kind);
    spec.set_listener(listener);
    return spec;
  }

  // A reader of `path` playing over TCP.
  std::unique_ptr<tools::RtspClient> Play(const std::string& path) {
    auto reader = std::make_unique<tools::RtspClient>(server_.url("lo", path));
    EXPECT_TRUE(reader->Connect(kStep).ok());
    EXPECT_TRUE(reader->Describe(kStep).ok());
    EXPECT_TRUE(reader->SetupAll(tools::Transport::kTcpInterleaved, kStep).ok());
    EXPECT_TRUE(reader->Play(kStep).ok());
    return reader;
  }
  static SequenceCount Count(tools::RtspClient& reader, absl::Duration window) {
    SequenceCount count;
    absl::StatusOr<int64_t> read = reader.ReadMedia(window, [&count](int, absl::string_view rtp) {
      count.Add(rtp);
      return true;
    });
    EXPECT_TRUE(read.ok()) << read.status();
    return count;
  }

  // Waits on a grpc.health.v1 Watch of `name` for `status`; the last
  // status seen, when it did not come within `timeout`.
  HealthCheckResponse::ServingStatus AwaitHealth(const std::string& name,
                                                 HealthCheckResponse::ServingStatus status,
                                                 absl::Duration timeout = absl::Seconds(5)) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(name);
    auto watch = health_->Watch(&context, request);
    HealthCheckResponse response;
    HealthCheckResponse::ServingStatus seen = HealthCheckResponse::UNKNOWN;
    while (seen != status && watch->Read(&response)) seen = response.status();
    context.TryCancel();
    return seen;
  }
  HealthCheckResponse::ServingStatus CheckHealth(const std::string& name) {
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(name);
    HealthCheckResponse response;
    grpc::Status status = health_->Check(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << name << ": " << status.error_message();
    return response.status();
  }
  // Whether `name` stays at its current status for `window`: a Watch that
  // gets no second message.
  bool HealthStaysFor(const std::string& name, HealthCheckResponse::ServingStatus status,
                      absl::Duration window) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + window));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(name);
    auto watch = health_->Watch(&context, request);
    HealthCheckResponse response;
    bool same = true;
    while (watch->Read(&response)) same = same && response.status() == status;
    return same;
  }

  ServerProcess server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ControlService::Stub> stub_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

// drop 50%: a reader gets roughly half the packets of the same window
// without the fault. Counted by sequence number, so the share does not
// depend on the frame sizes: received / (last - first + 1).
TEST_F(FaultApiTest, DropHalvesThePacketsAReaderGets) {
  std::unique_ptr<tools::RtspClient> reader = Play("/a");
  SequenceCount baseline = Count(*reader, absl::Seconds(2));
  ASSERT_GT(baseline.span(), 100) << "too few packets to compare";

  v1::FaultSpec drop = StreamFault("drop", "/a");
  drop.set_percent(50);
  v1::Fault fault;
  ASSERT_TRUE(Inject(drop, &fault).ok());
  Count(*reader, absl::Milliseconds(200));  // packets already on their way
  SequenceCount dropped = Count(*reader, absl::Seconds(2));
  std::printf("drop 50%%: baseline %lld of %lld (%.3f), with the fault %lld of %lld (%.3f)\n",
              static_cast<long long>(baseline.received), static_cast<long long>(baseline.span()),
              baseline.ratio(), static_cast<long long>(dropped.received),
              static_cast<long long>(dropped.span()), dropped.ratio());

  EXPECT_GT(baseline.ratio(), 0.99);  // loopback TCP loses nothing
  ASSERT_GT(dropped.span(), 100);
  // Binomial with n > 100: 0.5 +- 0.2 is more than 4 standard deviations.
  EXPECT_GT(dropped.ratio(), 0.3);
  EXPECT_LT(dropped.ratio(), 0.7);
  EXPECT_LT(dropped.received, baseline.received * 0.7);
}

// stall for 1 s: nothing arrives during it, packets come again after it
// cleared itself, and the watcher sees it started, then cleared as expired.
TEST_F(FaultApiTest, StallStopsPacketsUntilItExpires) {
  v1::WatchEventsRequest faults;
  faults.add_kinds("fault");
  EventWatcher watcher(stub_.get(), faults);
  std::unique_ptr<tools::RtspClient> reader = Play("/a");
  ASSERT_GT(Count(*reader, absl::Milliseconds(500)).received, 0);

  v1::FaultSpec stall = StreamFault("stall", "/a");
  stall.mutable_duration()->set_seconds(1);
  v1::Fault fault;
  ASSERT_TRUE(Inject(stall, &fault).ok());
  const absl::Time expires = absl::FromUnixSeconds(fault.expires_at().seconds()) +
                             absl::Nanoseconds(fault.expires_at().nanos());
  Count(*reader, absl::Milliseconds(200));  // packets already on their way
  const absl::Duration quiet = expires - absl::Milliseconds(100) - absl::Now();
  ASSERT_GT(quiet, absl::Milliseconds(300));
  SequenceCount during = Count(*reader, quiet);
  EXPECT_EQ(during.received, 0) << "packets while stalled";

  std::vector<v1::Event> events = watcher.Await(2, kStep);
  ASSERT_EQ(events.size(), 2u);
  SequenceCount after = Count(*reader, absl::Seconds(1));
  std::printf("stall 1s: %lld packets in the %s before it expired, %lld in 1s after\n",
              static_cast<long long>(during.received), absl::FormatDuration(quiet).c_str(),
              static_cast<long long>(after.received));
  EXPECT_GT(after.received, 10);
  EXPECT_EQ(Summary(events[0]), absl::StrCat("started ", fault.id(), " stall -"));
  EXPECT_EQ(Summary(events[1]), absl::StrCat("cleared ", fault.id(), " stall expired"));
  EXPECT_EQ(events[0].stream(), "/a");
  EXPECT_TRUE(List().empty());
}

// disconnect: the reader's connection is closed, and the fault fires once
// (it is never listed as active).
TEST_F(FaultApiTest, DisconnectClosesTheReadersConnection) {
  v1::WatchEventsRequest faults;
  faults.add_kinds("fault");
  EventWatcher watcher(stub_.get(), faults);
  std::unique_ptr<tools::RtspClient> reader = Play("/a");
  ASSERT_GT(Count(*reader, absl::Milliseconds(300)).received, 0);

  v1::Fault fault;
  ASSERT_TRUE(Inject(StreamFault("disconnect", "/a"), &fault).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  absl::StatusOr<int64_t> read = int64_t{0};
  while (read.ok() && absl::Now() < deadline) read = reader->ReadMedia(absl::Milliseconds(200));
  EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable) << read.status();

  std::vector<v1::Event> events = watcher.Await(1, kStep);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(Summary(events[0]), absl::StrCat("fired ", fault.id(), " disconnect -"));
  EXPECT_TRUE(List().empty());
}

// rtsp_error 454 on DESCRIBE: that stream's DESCRIBE answers 454, the other
// stream's 200; clearing the fault by id brings the 200 back.
TEST_F(FaultApiTest, RtspErrorAnswersItsStatusOnItsStreamOnlyUntilCleared) {
  v1::FaultSpec error = StreamFault("rtsp_error", "/a");
  error.set_status_code(454);
  error.add_methods("DESCRIBE");
  v1::Fault fault;
  ASSERT_TRUE(Inject(error, &fault).ok());

  tools::RtspClient faulted(server_.url("lo", "/a"));
  ASSERT_TRUE(faulted.Connect(kStep).ok());
  absl::StatusOr<tools::RtspResponse> refused = faulted.Describe(kStep);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("RTSP/1.0 454"));

  tools::RtspClient other(server_.url("lo", "/b"));
  ASSERT_TRUE(other.Connect(kStep).ok());
  absl::StatusOr<tools::RtspResponse> served = other.Describe(kStep);
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->status_code, 200);

  v1::ClearFaultsRequest by_id;
  by_id.add_ids(fault.id());
  v1::ClearFaultsResponse cleared;
  ASSERT_TRUE(Clear(by_id, &cleared).ok());
  ASSERT_EQ(cleared.cleared_size(), 1);
  EXPECT_EQ(cleared.cleared(0).id(), fault.id());
  tools::RtspClient again(server_.url("lo", "/a"));
  ASSERT_TRUE(again.Connect(kStep).ok());
  absl::StatusOr<tools::RtspResponse> restored = again.Describe(kStep);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->status_code, 200);
}

// Each error has its code and a message that names the thing and value.
TEST_F(FaultApiTest, ErrorsCarryTheirCodeAndMessage) {
  v1::Fault fault;
  grpc::Status status = Inject(StreamFault("melt", "/a"), &fault);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              StartsWith("fault.kind \"melt\" is not a stream fault; one of: "));

  status = Inject(StreamFault("stall", "/nope"), &fault);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "stream /nope: no such stream");

  status = Inject(ListenerFault("close", "nope"), &fault);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "listener nope: no such listener (lo)");

  v1::Fault first;
  ASSERT_TRUE(Inject(StreamFault("stall", "/a"), &first).ok());
  status = Inject(StreamFault("stall", "/a"), &fault);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(),
            absl::StrCat("stream /a already has a stall fault (", first.id(), "); clear it first"));

  v1::FaultSpec stall_with_percent = StreamFault("stall", "/b");
  stall_with_percent.set_percent(10);
  status = Inject(stall_with_percent, &fault);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "fault.percent is not a parameter of stall (it takes none)");

  v1::ClearFaultsRequest unknown;
  unknown.add_ids("f-999");
  v1::ClearFaultsResponse cleared;
  status = Clear(unknown, &cleared);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "fault f-999 is not active");

  // Only the one stall started; the failed calls left nothing behind.
  std::vector<v1::Fault> active = List();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].id(), first.id());
}

// A stream's faults end with it: DeleteStream clears them with the reason
// "stream removed".
TEST_F(FaultApiTest, FaultsEndWithTheirStream) {
  v1::WatchEventsRequest faults;
  faults.add_kinds("fault");
  EventWatcher watcher(stub_.get(), faults);
  v1::Fault freeze;
  ASSERT_TRUE(Inject(StreamFault("freeze", "/b"), &freeze).ok());
  v1::Fault stall;
  ASSERT_TRUE(Inject(StreamFault("stall", "/b"), &stall).ok());
  ASSERT_EQ(List().size(), 2u);

  v1::DeleteStreamRequest request;
  request.set_path("/b");
  v1::DeleteStreamResponse response;
  ASSERT_TRUE(stub_->DeleteStream(Context().get(), request, &response).ok());
  EXPECT_TRUE(List().empty());

  std::vector<v1::Event> events = watcher.Await(4, kStep);
  std::vector<std::string> seen;
  for (const v1::Event& event : events) seen.push_back(Summary(event));
  EXPECT_THAT(seen, ::testing::UnorderedElementsAre(
                        absl::StrCat("started ", freeze.id(), " freeze -"),
                        absl::StrCat("started ", stall.id(), " stall -"),
                        absl::StrCat("cleared ", freeze.id(), " freeze stream removed"),
                        absl::StrCat("cleared ", stall.id(), " stall stream removed")));
}

// Four listeners, healthy while 3 are up, probed every 200 ms.
class ListenerFaultTest : public FaultApiTest {
 protected:
  void SetUp() override {
    StartServer(absl::StrCat(R"yaml(
listeners:
  - {name: l1, bind_address: 127.0.0.1, port: 0}
  - {name: l2, bind_address: 127.0.0.1, port: 0}
  - {name: l3, bind_address: 127.0.0.1, port: 0}
  - {name: lo, bind_address: 127.0.0.1, port: 0}
health: {probe_interval: 200ms, probe_timeout: 500ms, min_healthy_listeners: 3}
)yaml",
                             kStreams));
    ASSERT_EQ(AwaitHealth("", HealthCheckResponse::SERVING), HealthCheckResponse::SERVING);
  }
  std::string Name(const std::string& listener) {
    return absl::StrCat("rtsp:", server_.port(listener));
  }
};

// close: the port refuses connects and its listener's health name turns
// NOT_SERVING; the server stays SERVING with 3 of 4 up, turns NOT_SERVING
// with 2 of 4, and is SERVING again once the faults are cleared.
TEST_F(ListenerFaultTest, ClosedListenersFollowTheKOfNRule) {
  v1::Fault first;
  ASSERT_TRUE(Inject(ListenerFault("close", "l1"), &first).ok());
  int fd = -1;
  EXPECT_EQ(ConnectTcp(server_.port("l1"), &fd), ECONNREFUSED);
  EXPECT_EQ(AwaitHealth(Name("l1"), HealthCheckResponse::NOT_SERVING),
            HealthCheckResponse::NOT_SERVING);
  // Five probe rounds later, 3 of 4 are still enough.
  EXPECT_TRUE(HealthStaysFor("", HealthCheckResponse::SERVING, absl::Seconds(1)));
  EXPECT_EQ(CheckHealth(""), HealthCheckResponse::SERVING);
  EXPECT_EQ(CheckHealth(Name("l2")), HealthCheckResponse::SERVING);

  v1::Fault second;
  ASSERT_TRUE(Inject(ListenerFault("close", "l2"), &second).ok());
  EXPECT_EQ(AwaitHealth("", HealthCheckResponse::NOT_SERVING), HealthCheckResponse::NOT_SERVING);

  v1::ClearFaultsResponse cleared;
  ASSERT_TRUE(Clear(v1::ClearFaultsRequest(), &cleared).ok());
  EXPECT_EQ(cleared.cleared_size(), 2);
  EXPECT_EQ(AwaitHealth("", HealthCheckResponse::SERVING), HealthCheckResponse::SERVING);
  // Re-bound on the same ports.
  EXPECT_EQ(AwaitHealth(Name("l1"), HealthCheckResponse::SERVING), HealthCheckResponse::SERVING);
  EXPECT_EQ(ConnectTcp(server_.port("l2"), &fd), 0);
  if (fd >= 0) close(fd);
}

// refuse: a connect is accepted and reset at once; the RTSP client's
// OPTIONS fails.
TEST_F(ListenerFaultTest, RefuseResetsEveryConnection) {
  v1::Fault fault;
  ASSERT_TRUE(Inject(ListenerFault("refuse", "l3"), &fault).ok());
  int fd = -1;
  const int connected = ConnectTcp(server_.port("l3"), &fd);
  if (connected == 0) {
    // The reset comes with the accept: the first read fails with it.
    timeval timeout{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    char byte;
    const ssize_t n = recv(fd, &byte, 1, 0);
    const int error = errno;
    close(fd);
    EXPECT_EQ(n, -1);
    EXPECT_EQ(error, ECONNRESET) << strerror(error);
  } else {
    EXPECT_EQ(connected, ECONNRESET) << strerror(connected);
  }
  EXPECT_EQ(AwaitHealth(Name("l3"), HealthCheckResponse::NOT_SERVING),
            HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(CheckHealth(""), HealthCheckResponse::SERVING);
}

// stall: the connect completes (kernel backlog) but OPTIONS gets no answer.
TEST_F(ListenerFaultTest, StallAcceptsButNeverAnswers) {
  v1::Fault fault;
  ASSERT_TRUE(Inject(ListenerFault("stall", "l3"), &fault).ok());
  tools::RtspClient client(server_.url("l3", "/a"));
  ASSERT_TRUE(client.Connect(kStep).ok());
  absl::StatusOr<tools::RtspResponse> options = client.Options(absl::Seconds(1));
  EXPECT_EQ(options.status().code(), absl::StatusCode::kDeadlineExceeded) << options.status();

  // Another listener answers meanwhile.
  tools::RtspClient other(server_.url("lo", "/a"));
  ASSERT_TRUE(other.Connect(kStep).ok());
  EXPECT_TRUE(other.Options(kStep).ok());
}

}  // namespace
}  // namespace rtsptest::testing
