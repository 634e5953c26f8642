// Protocol abuse against the real rtsp_test_server binary: hostile and
// malformed RTSP on its four RTSP ports (huge heads, bogus interleaved
// frames, requests out of state, wrong and foreign sessions, absurd
// transports, bad bodies, HTTP tunnel garbage, a trickled request, random
// bytes and mutated requests). Where the answer is specified (the request
// size limits of core/listener/request_framer.h: 414, 431, 413, 400, then
// close; from docs/security.md, 454 for a foreign session and 461 for a UDP
// destination elsewhere or a low client_port) the test asserts it; else the server
// must answer 4xx/5xx or close within a bound, never hang and never say 200
// to nonsense. After every category a well-behaved reader must get RTP,
// gRPC health must say SERVING and every RTSP port must answer OPTIONS; at
// the end the server's RSS must not have grown by more than 100 MB.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rtsptest/control/v1/control.grpc.pb.h"
#include "tests/e2e/abuse_requests.h"
#include "tests/e2e/server_process.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using tools::RtspClient;
using tools::RtspResponse;
using tools::Transport;

// How long the server may take to answer or close after a client's last
// byte; far above what a loopback answer takes, far below a hang.
constexpr absl::Duration kBound = absl::Seconds(5);
constexpr absl::Duration kStepTimeout = absl::Seconds(5);
constexpr int64_t kMaxRssGrowthKb = 100 * 1024;
constexpr uint32_t kSeed = 20261202;

// The default config's shape (four listeners, H.264 with audio and MJPEG
// streams on all of them) at sizes that leave the CPU to the test.
constexpr char kConfig[] = R"yaml(
listeners:
  - {name: rtsp-a, bind_address: 127.0.0.1, port: 0}
  - {name: rtsp-b, bind_address: 127.0.0.1, port: 0}
  - {name: rtsp-c, bind_address: 127.0.0.1, port: 0}
  - {name: rtsp-d, bind_address: 127.0.0.1, port: 0}
streams:
  - path: /cam1
    plugin: testpattern
    parameters: {pattern: smpte, width: 320, height: 240, fps: 15, codec: h264, bitrate_kbps: 300, gop: 15, overlay: false, audio: opus}
  - path: /cam3
    plugin: testpattern
    parameters: {pattern: smpte75, width: 320, height: 240, fps: 10, codec: mjpeg, overlay: false, audio: none}
drain_timeout: 0s
)yaml";
const char* const kListeners[] = {"rtsp-a", "rtsp-b", "rtsp-c", "rtsp-d"};

bool IsError(int status) { return status >= 400 && status <= 599; }
bool AllErrors(const std::vector<int>& statuses) {
  for (int status : statuses) {
    if (!IsError(status)) return false;
  }
  return true;
}

// VmRSS of `pid` in kB, or -1.
int64_t RssKb(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      int64_t kb = -1;
      std::string value(absl::StripAsciiWhitespace(line.substr(6)));
      value = value.substr(0, value.find(' '));
      return absl::SimpleAtoi(value, &kb) ? kb : -1;
    }
  }
  return -1;
}

class ProtocolAbuseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    suite_start_ = absl::Now();
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->StartWithConfig(kConfig).ok()) << server_->output();
    channel_ = new std::shared_ptr<grpc::Channel>(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->grpc_port()), grpc::InsecureChannelCredentials()));
    health_ = grpc::health::v1::Health::NewStub(*channel_).release();
    ASSERT_TRUE(WaitForServing(absl::Seconds(20))) << server_->output();
    // The baseline is taken once media flows, so that the encoders' and a
    // session's memory count as the starting point.
    ExpectReaderGetsRtp(kListeners[0]);
    rss_start_kb_ = RssKb(server_->pid());
  }

  static void TearDownTestSuite() {
    if (server_ == nullptr) return;
    if (server_->IsRunning()) {
      const int64_t rss_end_kb = RssKb(server_->pid());
      std::printf("server VmRSS: %lld kB after start, %lld kB at the end (%+lld kB); run %s\n",
                  static_cast<long long>(rss_start_kb_), static_cast<long long>(rss_end_kb),
                  static_cast<long long>(rss_end_kb - rss_start_kb_),
                  absl::FormatDuration(absl::Now() - suite_start_).c_str());
      EXPECT_GT(rss_start_kb_, 0);
      EXPECT_LE(rss_end_kb - rss_start_kb_, kMaxRssGrowthKb)
          << "RSS grew from " << rss_start_kb_ << " kB to " << rss_end_kb << " kB";
      absl::StatusOr<int> exit_code = server_->Stop(SIGTERM);
      EXPECT_TRUE(exit_code.ok() && *exit_code == 0) << server_->output();
    } else {
      ADD_FAILURE() << "the server is not running\n" << server_->output();
    }
    delete health_;
    delete channel_;
    delete server_;
    server_ = nullptr;
  }

  // After every category: the process lives, a reader plays, health is
  // SERVING and every RTSP port answers OPTIONS.
  void TearDown() override {
    ASSERT_TRUE(server_->IsRunning()) << server_->output();
    ExpectReaderGetsRtp(kListeners[reader_turn_++ % 4]);
    HealthCheckResponse::ServingStatus status = Check("");
    EXPECT_EQ(status, HealthCheckResponse::SERVING)
        << HealthCheckResponse::ServingStatus_Name(status);
    for (const char* listener : kListeners) {
      RtspClient client(server_->url(listener, "/cam1"));
      ASSERT_TRUE(client.Connect(kStepTimeout).ok()) << listener;
      absl::StatusOr<RtspResponse> options = client.Options(kStepTimeout);
      ASSERT_TRUE(options.ok()) << listener << ": " << options.status();
      EXPECT_EQ(options->status_code, 200) << listener;
    }
  }

  static HealthCheckResponse::ServingStatus Check(const std::string& service) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    if (!health_->Check(&context, request, &response).ok()) return HealthCheckResponse::UNKNOWN;
    return response.status();
  }

  // Follows a Watch of "" until it says SERVING (start-up probes take a
  // moment); no polling.
  static bool WaitForServing(absl::Duration timeout) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    HealthCheckRequest request;
    std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> reader =
        health_->Watch(&context, request);
    HealthCheckResponse response;
    while (reader->Read(&response)) {
      if (response.status() == HealthCheckResponse::SERVING) {
        context.TryCancel();
        reader->Finish();
        return true;
      }
    }
    reader->Finish();
    return false;
  }

  // DESCRIBE, SETUP (TCP interleaved), PLAY of /cam1 and RTP within 5 s.
  static void ExpectReaderGetsRtp(const char* listener) {
    RtspClient client(server_->url(listener, "/cam1"));
    ASSERT_TRUE(client.Connect(kStepTimeout).ok()) << listener;
    absl::StatusOr<RtspResponse> describe = client.Describe(kStepTimeout);
    ASSERT_TRUE(describe.ok()) << listener << ": " << describe.status();
    ASSERT_TRUE(client.SetupAll(Transport::kTcpInterleaved, kStepTimeout).ok()) << listener;
    ASSERT_TRUE(client.Play(kStepTimeout).ok()) << listener;
    int64_t packets = 0;
    const absl::Time deadline = absl::Now() + kStepTimeout;
    while (packets == 0 && absl::Now() < deadline) {
      absl::StatusOr<int64_t> read = client.ReadMedia(absl::Milliseconds(250));
      ASSERT_TRUE(read.ok()) << listener << ": " << read.status();
      packets += *read;
    }
    EXPECT_GT(packets, 0) << "no RTP on " << listener << " within " << kStepTimeout;
    client.Close();
  }

  static int port(int i) { return server_->port(kListeners[i % 4]); }
  static std::string Url(int i, absl::string_view path) {
    return absl::StrCat("rtsp://127.0.0.1:", port(i), path);
  }
  // `method url RTSP/1.0`, CSeq 1, `headers` (each ending in \r\n), blank line.
  static std::string Request(absl::string_view method, absl::string_view url,
                             absl::string_view headers = "") {
    return absl::StrCat(method, " ", url, " RTSP/1.0\r\nCSeq: 1\r\n", headers, "\r\n");
  }

  // A connection playing /cam1/stream=0 over TCP interleaved; its session id.
  static std::string PlayTcp(RawConnection& connection, int i) {
    if (!connection.Send(Request("SETUP", Url(i, "/cam1/stream=0"),
                                 "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"))) {
      return "";
    }
    const std::string setup = connection.ReadAnswer(kStepTimeout);
    if (StatusOf(setup) != 200) return "";
    std::string session = HeaderValue(setup, "Session");
    session = session.substr(0, session.find(';'));
    const std::string play = absl::StrCat("PLAY ", Url(i, "/cam1"),
                                          " RTSP/1.0\r\nCSeq: 2\r\nSession: ", session, "\r\n\r\n");
    if (!connection.Send(play) || StatusOf(connection.ReadAnswer(kStepTimeout)) != 200) return "";
    return session;
  }

  static ServerProcess* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
  static grpc::health::v1::Health::Stub* health_;
  static int64_t rss_start_kb_;
  static absl::Time suite_start_;
  static int reader_turn_;
};

ServerProcess* ProtocolAbuseTest::server_ = nullptr;
std::shared_ptr<grpc::Channel>* ProtocolAbuseTest::channel_ = nullptr;
grpc::health::v1::Health::Stub* ProtocolAbuseTest::health_ = nullptr;
int64_t ProtocolAbuseTest::rss_start_kb_ = -1;
absl::Time ProtocolAbuseTest::suite_start_;
int ProtocolAbuseTest::reader_turn_ = 1;

// One hostile request and the answer docs/security.md gives it.
struct LimitCase {
  std::string name;
  std::string bytes;
  int status;
};

TEST_F(ProtocolAbuseTest, OversizedHeadsAndBadLengthsGetTheDocumentedStatusThenClose) {
  const std::string options = Request("OPTIONS", Url(0, "/cam1"));
  std::string many_headers;
  for (int i = 0; i < 100000; ++i) absl::StrAppend(&many_headers, "X-H", i, ": v\r\n");
  std::string headers_101;  // with the CSeq that Request() adds, 101 headers
  for (int i = 0; i < 100; ++i) absl::StrAppend(&headers_101, "X-H", i, ": v\r\n");
  std::string big_head;  // 20 lines of 4000 bytes: each line legal, the head not
  for (int i = 0; i < 20; ++i)
    absl::StrAppend(&big_head, "X-H", i, ": ", std::string(4000, 'h'), "\r\n");
  const std::vector<LimitCase> cases = {
      {"1 MiB header line",
       Request("OPTIONS", Url(0, "/cam1"),
               absl::StrCat("X-Big: ", std::string(1 << 20, 'a'), "\r\n")),
       431},
      {"100000 headers", Request("OPTIONS", Url(1, "/cam1"), many_headers), 431},
      {"CSeq and 100 headers", Request("OPTIONS", Url(2, "/cam1"), headers_101), 431},
      {"80 KB head of legal lines", Request("OPTIONS", Url(3, "/cam1"), big_head), 431},
      {"64 KiB path", Request("DESCRIBE", Url(0, absl::StrCat("/", std::string(64 * 1024, 'p')))),
       414},
      {"10 KiB method", Request(std::string(10 * 1024, 'M'), Url(1, "/cam1")), 414},
      {"1 MiB request line without end", std::string(1 << 20, 'G'), 414},
      {"Content-Length -1", Request("SET_PARAMETER", Url(2, "/cam1"), "Content-Length: -1\r\n"),
       400},
      {"Content-Length abc", Request("SET_PARAMETER", Url(3, "/cam1"), "Content-Length: abc\r\n"),
       400},
      {"Content-Length 2 GB",
       Request("SET_PARAMETER", Url(0, "/cam1"), "Content-Length: 2147483648\r\n"), 413},
      {"Content-Length 1 MiB + 1",
       Request("SET_PARAMETER", Url(1, "/cam1"), "Content-Length: 1048577\r\n"), 413},
      {"Content-Length 2^64",
       Request("SET_PARAMETER", Url(2, "/cam1"), "Content-Length: 18446744073709551616\r\n"), 400},
  };
  int i = 0;
  for (const LimitCase& c : cases) {
    AbuseOutcome outcome = Exchange(port(i++), c.bytes, /*server_must_close=*/true, kBound);
    EXPECT_EQ(outcome.statuses, std::vector<int>{c.status}) << c.name << ": " << outcome.Describe();
    EXPECT_TRUE(outcome.closed) << c.name << ": " << outcome.Describe();
  }
  // After a good request on the same connection: answered, then refused.
  // (Sent in one write, the good request is lost with the bad one: the
  // guard fails the whole read it found the violation in.)
  RawConnection after_good(port(3));
  ASSERT_TRUE(after_good.Send(options));
  EXPECT_EQ(StatusOf(after_good.ReadAnswer(kBound)), 200);
  after_good.Send(Request("OPTIONS", Url(3, "/cam1"), headers_101));
  EXPECT_EQ(StatusOf(after_good.ReadAnswer(kBound)), 431);
  EXPECT_TRUE(after_good.WaitForEnd(kBound));
  // At the limits exactly (CSeq and 99 more): answered, and the connection
  // stays open.
  std::string headers_100;
  for (int i = 0; i < 99; ++i) absl::StrAppend(&headers_100, "X-H", i, ": v\r\n");
  RawConnection at_limit(port(0));
  ASSERT_TRUE(at_limit.Send(Request("OPTIONS", Url(0, "/cam1"), headers_100)));
  EXPECT_EQ(StatusOf(at_limit.ReadAnswer(kBound)), 200);
  ASSERT_TRUE(at_limit.Send(options));
  EXPECT_EQ(StatusOf(at_limit.ReadAnswer(kBound)), 200);
}

TEST_F(ProtocolAbuseTest, PathsWithTraversalNulAndBadBytesAreRefused) {
  const std::vector<std::string> paths = {
      "/../../../../etc/passwd",
      "/cam1/../../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/cam1/%2e%2e/cam3",
      "/cam1%00",
      "/cam1%00/../x",
      std::string("/cam1\0", 6),
      std::string("/cam1\0/../../etc/passwd", 23),
      "/\xff\xfe\xc0\xaf",
      "/cam1\xc0\xae\xc0\xae/",
      "/\xed\xa0\x80",
  };
  int i = 0;
  for (const std::string& path : paths) {
    for (const char* method : {"DESCRIBE", "SETUP"}) {
      const std::string headers = absl::StrCat(method) == "SETUP"
                                      ? "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"
                                      : "";
      AbuseOutcome outcome =
          Exchange(port(i), Request(method, Url(i, path), headers), false, kBound);
      ++i;
      EXPECT_TRUE(outcome.closed) << method << " " << absl::CEscape(path) << ": "
                                  << outcome.Describe();
      EXPECT_TRUE(AllErrors(outcome.statuses))
          << method << " " << absl::CEscape(path) << ": " << outcome.Describe();
    }
  }
}

TEST_F(ProtocolAbuseTest, BogusInterleavedFramesFromTheClientAreSkipped) {
  const std::string options = Request("OPTIONS", Url(0, "/cam1"));
  // A frame before any SETUP, and one on channel 200: passed over.
  AbuseOutcome before_setup =
      Exchange(port(0), absl::StrCat(std::string("$\0\0\4abcd", 8), options), false, kBound);
  EXPECT_EQ(before_setup.statuses, std::vector<int>{200}) << before_setup.Describe();
  EXPECT_TRUE(before_setup.closed) << before_setup.Describe();
  AbuseOutcome channel_200 =
      Exchange(port(1), absl::StrCat(std::string("$\xc8\0\4abcd", 8), options), false, kBound);
  EXPECT_EQ(channel_200.statuses, std::vector<int>{200}) << channel_200.Describe();
  EXPECT_TRUE(channel_200.closed) << channel_200.Describe();
  // Length 65535 with 100 bytes: the request after it is payload, so no
  // answer; the client's end of stream ends the connection.
  AbuseOutcome short_frame =
      Exchange(port(2), absl::StrCat(std::string("$\0\xff\xff", 4), std::string(100, 'x'), options),
               false, kBound);
  EXPECT_EQ(short_frame.statuses, std::vector<int>{}) << short_frame.Describe();
  EXPECT_TRUE(short_frame.closed) << short_frame.Describe();
  // A lone '$' and a cut frame header.
  for (const std::string& cut :
       {std::string("$"), std::string("$\0", 2), std::string("$\0\xff", 3)}) {
    AbuseOutcome outcome = Exchange(port(3), cut, false, kBound);
    EXPECT_TRUE(outcome.closed) << absl::CEscape(cut) << ": " << outcome.Describe();
    EXPECT_EQ(outcome.statuses, std::vector<int>{})
        << absl::CEscape(cut) << ": " << outcome.Describe();
  }
  // A playing reader that sends garbage RTCP, RTP on its own RTP channel,
  // frames on channels it never set up, and a 64 KiB frame keeps playing
  // and is still answered.
  RawConnection reader(port(0));
  ASSERT_FALSE(PlayTcp(reader, 0).empty());
  ASSERT_TRUE(reader.ReadRtp(3, kStepTimeout));
  std::mt19937 rng(kSeed);
  ASSERT_TRUE(reader.Send(
      absl::StrCat(std::string("$\1\0\x8", 4), RandomBytes(rng, 8), std::string("$\0\0\x10", 4),
                   RandomBytes(rng, 16), std::string("$\x07\0\x4", 4), RandomBytes(rng, 4),
                   std::string("$\xc8\0\x4", 4), RandomBytes(rng, 4), std::string("$\1\xff\xff", 4),
                   RandomBytes(rng, 65535), std::string("$\1\0\0", 4))));
  EXPECT_TRUE(reader.ReadRtp(20, kStepTimeout));
  ASSERT_TRUE(
      reader.Send(absl::StrCat("OPTIONS ", Url(0, "/cam1"), " RTSP/1.0\r\nCSeq: 9\r\n\r\n")));
  EXPECT_EQ(StatusOf(reader.ReadAnswer(kStepTimeout)), 200);
}

TEST_F(ProtocolAbuseTest, RequestsOutOfStateAreRefusedOnOneConnection) {
  RawConnection connection(port(1));
  const std::vector<std::pair<std::string, std::string>> requests = {
      {"PLAY", Request("PLAY", Url(1, "/cam1"))},
      {"PAUSE", Request("PAUSE", Url(1, "/cam1"))},
      {"TEARDOWN", Request("TEARDOWN", Url(1, "/cam1"))},
      {"GET_PARAMETER with a body",
       absl::StrCat("GET_PARAMETER ", Url(1, "/cam1"),
                    " RTSP/1.0\r\nCSeq: 1\r\nContent-Type: text/parameters\r\n"
                    "Content-Length: 10\r\n\r\nposition\r\n")},
      {"PLAY with a made-up session", Request("PLAY", Url(1, "/cam1"), "Session: 12345678\r\n")},
      {"PLAY of another path", Request("PLAY", Url(1, "/cam3"))},
      {"SETUP of a track that does not exist",
       Request("SETUP", Url(1, "/cam1/stream=9"),
               "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")},
      {"ANNOUNCE", Request("ANNOUNCE", Url(1, "/cam1"))},
      {"RECORD", Request("RECORD", Url(1, "/cam1"))},
  };
  for (const auto& [name, bytes] : requests) {
    ASSERT_TRUE(connection.Send(bytes)) << name;
    const std::string answer = connection.ReadAnswer(kBound);
    EXPECT_TRUE(IsError(StatusOf(answer))) << name << ": " << absl::CEscape(answer);
  }
  ASSERT_TRUE(connection.Send(Request("OPTIONS", Url(1, "/cam1"))));
  EXPECT_EQ(StatusOf(connection.ReadAnswer(kBound)), 200);
  // An empty GET_PARAMETER without a session is a keep-alive; it is
  // answered, 200 or refused, but never left hanging.
  ASSERT_TRUE(connection.Send(Request("GET_PARAMETER", Url(1, "/cam1"))));
  const std::string keepalive = connection.ReadAnswer(kBound);
  EXPECT_NE(StatusOf(keepalive), 0) << absl::CEscape(keepalive);
}

TEST_F(ProtocolAbuseTest, WrongAndForeignSessionIdsGet454AndTheOwnerPlaysOn) {
  RawConnection owner(port(2));
  const std::string session = PlayTcp(owner, 2);
  ASSERT_FALSE(session.empty());
  ASSERT_TRUE(owner.ReadRtp(3, kStepTimeout));
  {
    RawConnection intruder(port(2));
    const std::string with_session = absl::StrCat("Session: ", session, "\r\n");
    for (const std::string& bytes :
         {Request("GET_PARAMETER", Url(2, "/cam1"), with_session),
          Request("PAUSE", Url(2, "/cam1"), with_session),
          Request("TEARDOWN", Url(2, "/cam1"), with_session),
          Request("PLAY", Url(2, "/cam1"), with_session),
          Request(
              "SETUP", Url(2, "/cam1/stream=0"),
              absl::StrCat(with_session, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"))}) {
      ASSERT_TRUE(intruder.Send(bytes));
      const std::string answer = intruder.ReadAnswer(kBound);
      EXPECT_EQ(StatusOf(answer), 454) << absl::CEscape(bytes) << " -> " << absl::CEscape(answer);
    }
  }
  // The same id on another port: another listener never made it.
  AbuseOutcome other_port = Exchange(
      port(3), Request("TEARDOWN", Url(3, "/cam1"), absl::StrCat("Session: ", session, "\r\n")),
      false, kBound);
  EXPECT_EQ(other_port.statuses, std::vector<int>{454}) << other_port.Describe();
  // Wrong ids on the owner's own connection.
  for (const std::string& wrong :
       {std::string("deadbeef"), absl::StrCat(session, "x"), session.substr(1), std::string("0"),
        std::string(4000, '7'), std::string(";timeout=1"), std::string("\xff\xfe")}) {
    ASSERT_TRUE(
        owner.Send(Request("PAUSE", Url(2, "/cam1"), absl::StrCat("Session: ", wrong, "\r\n"))));
    const std::string answer = owner.ReadAnswer(kBound);
    EXPECT_EQ(StatusOf(answer), 454) << absl::CEscape(wrong) << " -> " << absl::CEscape(answer);
  }
  EXPECT_TRUE(owner.ReadRtp(20, kStepTimeout));
}

// A SETUP transport and the answer the server must give it (0: any 4xx/5xx).
struct TransportCase {
  std::string transport;
  int status;
};

TEST_F(ProtocolAbuseTest, AbsurdSetupTransportsAreRefused) {
  const std::vector<TransportCase> cases = {
      {"RTP/AVP;unicast;client_port=0-1", 461},
      {"RTP/AVP;unicast;client_port=80-81", 461},
      {"RTP/AVP;unicast;client_port=1023-1024", 461},
      {"RTP/AVP;unicast;client_port=40000-40001;destination=127.0.0.2", 461},
      {"RTP/AVP;unicast;client_port=40000-40001;destination=10.9.8.7", 461},
      {"RTP/AVP;unicast;client_port=40000-40001;destination=::1", 461},
      {"RTP/AVP;unicast;client_port=70000-70001", 0},
      {"RTP/AVP;unicast;client_port=-5", 0},
      {"RTP/AVP/TCP;unicast;interleaved=300-301", 0},
      {"RTP/XYZ;unicast;client_port=40000-40001", 0},
      {"garbage", 0},
      {"", 0},
      {std::string(6000, ';'), 0},
  };
  int i = 0;
  for (const TransportCase& c : cases) {
    AbuseOutcome outcome = Exchange(port(i),
                                    Request("SETUP", Url(i, "/cam1/stream=0"),
                                            absl::StrCat("Transport: ", c.transport, "\r\n")),
                                    false, kBound);
    ++i;
    ASSERT_EQ(outcome.statuses.size(), 1u) << c.transport << ": " << outcome.Describe();
    if (c.status != 0) {
      EXPECT_EQ(outcome.statuses[0], c.status) << c.transport << ": " << outcome.Describe();
    } else {
      EXPECT_TRUE(IsError(outcome.statuses[0])) << c.transport << ": " << outcome.Describe();
    }
    EXPECT_TRUE(outcome.closed) << c.transport << ": " << outcome.Describe();
  }
  AbuseOutcome no_transport =
      Exchange(port(0), Request("SETUP", Url(0, "/cam1/stream=0")), false, kBound);
  EXPECT_TRUE(no_transport.statuses.size() == 1 && IsError(no_transport.statuses[0]))
      << no_transport.Describe();
}

// Bytes that have no single right answer: the server may answer (never
// 2xx when `no_success`) and must end the connection within the bound once
// the client has ended its side.
struct BoundedCase {
  std::string name;
  std::string bytes;
  bool no_success;
};

void ExpectBounded(int port, const BoundedCase& c) {
  AbuseOutcome outcome = Exchange(port, c.bytes, false, kBound);
  EXPECT_TRUE(outcome.closed) << c.name << ": " << outcome.Describe();
  for (int status : outcome.statuses) {
    EXPECT_NE(status, 0) << c.name << ": unparsable answer: " << outcome.Describe();
    if (c.no_success) {
      EXPECT_TRUE(IsError(status)) << c.name << ": " << outcome.Describe();
    }
  }
}

TEST_F(ProtocolAbuseTest, BodiesCSeqAndTunnelGarbageEndWithinTheBound) {
  const std::string url = Url(0, "/cam1");
  const std::vector<BoundedCase> cases = {
      {"Content-Length 100, 10 bytes sent, then end",
       absl::StrCat("SET_PARAMETER ", url,
                    " RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 100\r\n\r\n0123456789"),
       true},
      {"no CSeq", absl::StrCat("DESCRIBE ", url, " RTSP/1.0\r\n\r\n"), false},
      {"CSeq abc", absl::StrCat("OPTIONS ", url, " RTSP/1.0\r\nCSeq: abc\r\n\r\n"), false},
      {"two CSeq headers", absl::StrCat("OPTIONS ", url, " RTSP/1.0\r\nCSeq: 1\r\nCSeq: 2\r\n\r\n"),
       false},
      {"the same CSeq twice", absl::StrCat(Request("OPTIONS", url), Request("OPTIONS", url)),
       false},
      {"RTSP/9.9", absl::StrCat("OPTIONS ", url, " RTSP/9.9\r\nCSeq: 1\r\n\r\n"), true},
      {"no version", absl::StrCat("PLAY ", url, "\r\nCSeq: 1\r\n\r\n"), true},
      {"header without colon", Request("PLAY", url, "Session\r\n"), true},
      {"tunnel GET with garbage cookie",
       "GET /cam1 HTTP/1.0\r\nx-sessioncookie: \x01\x02\xff garbage\r\nAccept: "
       "application/x-rtsp-tunnelled\r\n\r\n",
       false},
      {"tunnel GET without cookie",
       "GET /cam1 HTTP/1.0\r\nAccept: application/x-rtsp-tunnelled\r\n\r\n", false},
      {"tunnel POST with unknown cookie and garbage base64",
       "POST /cam1 HTTP/1.0\r\nx-sessioncookie: nosuchcookie\r\nContent-Type: "
       "application/x-rtsp-tunnelled\r\nContent-Length: 32767\r\n\r\n!!!!not base64 at "
       "all@@@@\r\n\r\n",
       false},
      {"tunnel POST with Content-Length 2 GB",
       "POST /cam1 HTTP/1.0\r\nx-sessioncookie: abc\r\nContent-Length: 2147483648\r\n\r\n", true},
      {"HTTP GET of a file", "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", false},
  };
  int i = 0;
  for (const BoundedCase& c : cases) ExpectBounded(port(i++), c);
  // A tunnel pair with a garbage cookie and garbage inside the tunnel.
  RawConnection get(port(1));
  ASSERT_TRUE(
      get.Send("GET /cam1 HTTP/1.0\r\nx-sessioncookie: zz\x7f\r\nAccept: "
               "application/x-rtsp-tunnelled\r\n\r\n"));
  const std::string get_answer = get.ReadAnswer(kBound);
  EXPECT_NE(StatusOf(get_answer), 0) << absl::CEscape(get_answer);
  ExpectBounded(port(1), {"tunnel POST of the GET's cookie with garbage",
                          "POST /cam1 HTTP/1.0\r\nx-sessioncookie: zz\x7f\r\nContent-Type: "
                          "application/x-rtsp-tunnelled\r\n\r\n$$$$%%%%\x01\x02\x03====AAAA",
                          false});
}

// Sends `request` a byte per write over about `duration`: the pacing is
// the test, not synchronisation.
bool Trickle(RawConnection& connection, absl::string_view request, absl::Duration duration) {
  const absl::Duration gap = duration / static_cast<int>(request.size());
  for (char c : request) {
    if (!connection.Send(std::string(1, c))) return false;
    absl::SleepFor(gap);
  }
  return true;
}

TEST_F(ProtocolAbuseTest, ATrickledRequestIsAnsweredOrDroppedWithinTheBound) {
  const std::string url = Url(2, "/cam1");
  // A line per write, 250 ms apart: answered.
  RawConnection by_line(port(2));
  for (const std::string& line :
       {absl::StrCat("DESCRIBE ", url, " RTSP/1.0\r\n"), std::string("CSeq: 1\r\n"),
        std::string("Accept: application/sdp\r\n"), std::string("\r\n")}) {
    ASSERT_TRUE(by_line.Send(line));
    absl::SleepFor(absl::Milliseconds(250));  // the pacing is the test
  }
  EXPECT_EQ(StatusOf(by_line.ReadAnswer(kBound)), 200);
  // A byte per write over 2 s: whatever the answer (see below), the
  // client's end of stream ends the connection in time.
  RawConnection trickled(port(2));
  ASSERT_TRUE(
      Trickle(trickled, Request("DESCRIBE", url, "Accept: application/sdp\r\n"), absl::Seconds(2)));
  trickled.ShutdownWrite();
  EXPECT_TRUE(trickled.WaitForEnd(kBound));
  for (int status : trickled.statuses()) EXPECT_NE(status, 0) << absl::CEscape(trickled.received());
}

// Stock gst-rtsp-server 1.22 (GstRTSPConnection) never answers a request
// sent a byte per write (the connection stays open and silent), nor one cut
// once between a header line's CR and LF ("...CSeq: 1\r" then "\n\r\n");
// this server hands it request heads whole (core/listener/request_guard.h).
TEST_F(ProtocolAbuseTest, ARequestTrickledByteByByteIsAnswered) {
  const std::string request = Request("DESCRIBE", Url(2, "/cam1"), "Accept: application/sdp\r\n");
  RawConnection trickled(port(2));
  ASSERT_TRUE(Trickle(trickled, request, absl::Seconds(2)));
  EXPECT_EQ(StatusOf(trickled.ReadAnswer(kBound)), 200);
  RawConnection cut(port(2));
  const size_t cr = request.find("\r\n\r\n");
  ASSERT_TRUE(cut.Send(request.substr(0, cr + 1)));
  absl::SleepFor(absl::Milliseconds(100));  // two reads, not one
  ASSERT_TRUE(cut.Send(request.substr(cr + 1)));
  EXPECT_EQ(StatusOf(cut.ReadAnswer(kBound)), 200);
}

// gst-rtsp-server alone matches a track by sscanf("stream=%u"), so a SETUP
// URL with anything after the track's control was set up as that track and
// answered 200 with a session; the controls are exact now.
TEST_F(ProtocolAbuseTest, SetupOfATrackUrlWithTrailingBytesIsRefused) {
  int i = 0;
  for (const char* path : {"/cam1/stream=0/../../../x", "/cam1/stream=0junk", "/cam1/stream=00"}) {
    AbuseOutcome outcome = Exchange(
        port(i),
        Request("SETUP", Url(i, path), "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"), false,
        kBound);
    ++i;
    EXPECT_TRUE(AllErrors(outcome.statuses) && !outcome.statuses.empty())
        << path << ": " << outcome.Describe();
  }
}

// Fifty readers PLAY over TCP and never read: the server's memory stays
// bounded while they sit there, and each is closed once nothing it was sent
// has been acknowledged for 10 s (the fixture's TearDown then checks that a
// good reader still plays).
TEST_F(ProtocolAbuseTest, FiftyReadersThatNeverReadAreDroppedAndCostBoundedMemory) {
  constexpr int kReaders = 50;
  const int64_t rss_before_kb = RssKb(server_->pid());
  std::vector<std::unique_ptr<RtspClient>> readers;
  for (int i = 0; i < kReaders; ++i) {
    auto client = std::make_unique<RtspClient>(server_->url(kListeners[i % 4], "/cam1"));
    ASSERT_TRUE(client->Connect(kStepTimeout).ok()) << i;
    ASSERT_TRUE(client->Describe(kStepTimeout).ok()) << i;
    ASSERT_TRUE(client->SetupAll(Transport::kTcpInterleaved, kStepTimeout).ok()) << i;
    ASSERT_TRUE(client->Play(kStepTimeout).ok()) << i;
    readers.push_back(std::move(client));
  }
  // Reading any of them now would let it catch up: wait for the server's
  // count of dropped readers instead.
  auto control = rtsptest::control::v1::ControlService::NewStub(*channel_);
  auto dropped = [&] {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kStepTimeout));
    rtsptest::control::v1::HealthReport report;
    uint64_t total = 0;
    if (control->GetHealthReport(&context, {}, &report).ok()) {
      for (const auto& listener : report.listeners()) total += listener.stalled_readers_dropped();
    }
    return total;
  };
  int64_t rss_held_kb = RssKb(server_->pid());
  const absl::Time deadline = absl::Now() + absl::Seconds(45);
  while (dropped() < kReaders && absl::Now() < deadline) {
    rss_held_kb = std::max(rss_held_kb, RssKb(server_->pid()));
    absl::SleepFor(absl::Milliseconds(250));
  }
  ASSERT_EQ(dropped(), static_cast<uint64_t>(kReaders)) << "within 45 s";
  std::printf("server VmRSS with %d stalled readers: %lld kB -> at most %lld kB\n", kReaders,
              static_cast<long long>(rss_before_kb), static_cast<long long>(rss_held_kb));
  EXPECT_LE(rss_held_kb - rss_before_kb, 50 * 1024);
  // Each connection ends once what sat in its buffers is read.
  int closed = 0;
  for (auto& reader : readers) {
    const absl::Time drained_by = absl::Now() + absl::Seconds(10);
    absl::StatusOr<int64_t> read = int64_t{0};
    while (read.ok() && absl::Now() < drained_by) read = reader->ReadMedia(absl::Milliseconds(200));
    closed += read.ok() ? 0 : 1;
  }
  EXPECT_EQ(closed, kReaders);
}

TEST_F(ProtocolAbuseTest, RandomBytesAreRefusedOrDroppedWithinTheBound) {
  std::mt19937 rng(kSeed);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  int answered = 0;
  for (int round = 0; round < 200 && absl::Now() < deadline; ++round) {
    const std::string bytes = RandomBytes(rng, std::uniform_int_distribution<size_t>(0, 4096)(rng));
    AbuseOutcome outcome = Exchange(port(round), bytes, false, kBound);
    answered += outcome.statuses.empty() ? 0 : 1;
    EXPECT_TRUE(outcome.closed) << "round " << round << ": " << outcome.Describe();
    EXPECT_TRUE(AllErrors(outcome.statuses)) << "round " << round << ": " << outcome.Describe();
  }
  EXPECT_LT(absl::Now(), deadline) << "200 rounds took over 30 s";
  std::printf("random bytes: %d of 200 answered\n", answered);
}

TEST_F(ProtocolAbuseTest, MutatedRequestsAreAnsweredOrDroppedWithinTheBound) {
  std::mt19937 rng(kSeed + 1);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  int answered = 0;
  for (int round = 0; round < 300 && absl::Now() < deadline; ++round) {
    const int i = round % 4;
    const int kind = round % 3;
    std::string valid;
    if (kind == 0) {
      valid = Request("DESCRIBE", Url(i, "/cam1"), "Accept: application/sdp\r\n");
    } else if (kind == 1) {
      valid = Request("SETUP", Url(i, "/cam1/stream=0"),
                      "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n");
    } else {
      // A session id no one was given: no edit can make this PLAY right.
      valid = Request("PLAY", Url(i, "/cam1"), "Session: 5eed5eed5eed\r\nRange: npt=0-\r\n");
    }
    const std::string bytes = Mutate(rng, valid);
    AbuseOutcome outcome = Exchange(port(i), bytes, false, kBound);
    answered += outcome.statuses.empty() ? 0 : 1;
    EXPECT_TRUE(outcome.closed) << "round " << round << " " << absl::CEscape(bytes) << ": "
                                << outcome.Describe();
    for (int status : outcome.statuses) {
      EXPECT_NE(status, 0) << "round " << round << " " << absl::CEscape(bytes) << ": "
                           << outcome.Describe();
      if (kind == 2) {
        EXPECT_TRUE(IsError(status))
            << "round " << round << " " << absl::CEscape(bytes) << ": " << outcome.Describe();
      }
    }
  }
  EXPECT_LT(absl::Now(), deadline) << "300 rounds took over 30 s";
  std::printf("mutations: %d of 300 answered\n", answered);
}

TEST_F(ProtocolAbuseTest, SeveralHostileRequestsOnOneConnection) {
  const std::string url = Url(3, "/cam1");
  std::string bytes = absl::StrCat(
      Request("OPTIONS", url), Request("PLAY", url), std::string("$\xc8\0\2zz", 6),
      Request("SETUP", Url(3, "/cam1/stream=0"), "Transport: RTP/AVP;unicast;client_port=0-1\r\n"),
      Request("SETUP", Url(3, "/cam1/stream=0"),
              "Transport: RTP/AVP;unicast;client_port=40000-40001;destination=127.0.0.2\r\n"),
      Request("DESCRIBE", Url(3, "/../../etc/passwd")),
      Request("OPTIONS", url, absl::StrCat("X-Big: ", std::string(9000, 'b'), "\r\n")),
      Request("OPTIONS", url));
  AbuseOutcome outcome = Exchange(port(3), bytes, true, kBound);
  ASSERT_EQ(outcome.statuses.size(), 6u) << outcome.Describe();
  EXPECT_EQ(outcome.statuses[0], 200) << outcome.Describe();
  EXPECT_TRUE(IsError(outcome.statuses[1])) << outcome.Describe();
  EXPECT_EQ(outcome.statuses[2], 461) << outcome.Describe();
  EXPECT_EQ(outcome.statuses[3], 461) << outcome.Describe();
  EXPECT_TRUE(IsError(outcome.statuses[4])) << outcome.Describe();
  EXPECT_EQ(outcome.statuses[5], 431) << outcome.Describe();
  EXPECT_TRUE(outcome.closed) << outcome.Describe();
}

}  // namespace
}  // namespace rtsptest::testing
