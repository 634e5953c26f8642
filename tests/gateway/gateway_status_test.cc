// The gateway against a real rtsp_test_server, with curl: /health status
// codes and bodies for 4/4, 3/4 and 2/4 healthy ports and during a SIGTERM
// drain; ?detailed=true; /ready; /rtsp-urls and /metrics for the shipped
// default config through the embedded gateway (rtsp_test_server
// --http_port).
#include <signal.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/gateway/gateway_test_util.h"
#include "tools/rtsp_client/rtsp_client.h"

namespace rtsptest::testing {
namespace {

constexpr absl::Duration kSettle = absl::Seconds(10);

const google::protobuf::Value& Field(const google::protobuf::Struct& json,
                                     const std::string& name) {
  static const google::protobuf::Value kMissing;
  auto it = json.fields().find(name);
  EXPECT_TRUE(it != json.fields().end()) << "missing field " << name;
  return it == json.fields().end() ? kMissing : it->second;
}

// Checks the seed's /health body: exactly status, open_ports, total_ports,
// timestamp (+ reason when unhealthy). `open` < 0: any count.
void ExpectHealthBody(const HttpReply& reply, const std::string& status, int open, int total) {
  absl::StatusOr<google::protobuf::Struct> json = ParseJsonObject(reply.body);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(Field(*json, "status").string_value(), status) << reply.body;
  if (open >= 0) {
    EXPECT_EQ(Field(*json, "open_ports").number_value(), open) << reply.body;
  }
  EXPECT_EQ(Field(*json, "total_ports").number_value(), total) << reply.body;
  double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  EXPECT_NEAR(Field(*json, "timestamp").number_value(), now, 5.0) << reply.body;
  EXPECT_EQ(json->fields().size(), status == "healthy" ? 4u : 5u) << reply.body;
  EXPECT_EQ(reply.headers.at("content-type"), "application/json");
}

class GatewayStatusTest : public ::testing::Test {
 protected:
  // Starts a server with `ports` (0 = free, or a HeldPort's) and a
  // health_gateway following it.
  void Start(const std::vector<int>& ports, const std::string& drain_timeout = "0s") {
    ASSERT_TRUE(server_.StartWithConfig(ListenersConfig(ports, drain_timeout)).ok())
        << server_.output();
    ASSERT_TRUE(gateway_.Start(absl::StrCat("127.0.0.1:", server_.grpc_port())).ok())
        << gateway_.output();
  }

  ServerProcess server_;
  GatewayProcess gateway_;
};

TEST_F(GatewayStatusTest, FourOfFourIs200Healthy) {
  Start({0, 0, 0, 0});
  HttpReply reply = WaitForStatus(gateway_.url("/health"), 200, kSettle);
  ASSERT_EQ(reply.status, 200) << reply.body << reply.error;
  ExpectHealthBody(reply, "healthy", 4, 4);
  EXPECT_EQ(reply.headers.at("cache-control"), "no-store");
  EXPECT_EQ(Curl(gateway_.url("/ready")).status, 200);
  EXPECT_EQ(Curl(gateway_.url("/live")).status, 200);
}

TEST_F(GatewayStatusTest, ThreeOfFourIs200WithTheTakenPortUnbound) {
  HeldPort taken(HeldPort::Mode::kListening);
  Start({taken.port(), 0, 0, 0});
  HttpReply reply = WaitForStatus(gateway_.url("/health"), 200, kSettle);
  ASSERT_EQ(reply.status, 200) << reply.body << reply.error;
  ExpectHealthBody(reply, "healthy", 3, 4);

  HttpReply detailed = Curl(gateway_.url("/health?detailed=true"));
  ASSERT_EQ(detailed.status, 200);
  absl::StatusOr<google::protobuf::Struct> json = ParseJsonObject(detailed.body);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(Field(*json, "version").string_value(), "0.1.0");
  const auto& services = Field(*json, "services").struct_value().fields();
  EXPECT_EQ(services.at("").string_value(), "healthy");
  EXPECT_EQ(services.at("rtsp").string_value(), "healthy");
  EXPECT_EQ(services.at("control").string_value(), "healthy");
  EXPECT_EQ(services.at(absl::StrCat("rtsp:", taken.port())).string_value(), "unhealthy");
  const auto& ports = Field(*json, "ports").list_value().values();
  ASSERT_EQ(ports.size(), 4);
  const auto& first = ports[0].struct_value().fields();
  EXPECT_EQ(first.at("port").number_value(), taken.port());
  EXPECT_EQ(first.at("state").string_value(), "unbound");
  EXPECT_NE(first.at("last_error").string_value(), "");
  const auto& second = ports[1].struct_value().fields();
  EXPECT_EQ(second.at("state").string_value(), "healthy");
  EXPECT_EQ(second.at("last_error").string_value(), "");
  EXPECT_GT(second.at("latency_ms").number_value(), 0);
  EXPECT_LT(second.at("latency_ms").number_value(), 300);
  const auto& rule = Field(*json, "rule").struct_value().fields();
  EXPECT_EQ(rule.at("k").number_value(), 3);
  EXPECT_EQ(rule.at("n").number_value(), 4);
  absl::Time checked_at;
  std::string error;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, Field(*json, "checked_at").string_value(),
                              &checked_at, &error))
      << Field(*json, "checked_at").string_value() << ": " << error;
  EXPECT_LT(absl::AbsDuration(absl::Now() - checked_at), absl::Seconds(5));
}

TEST_F(GatewayStatusTest, TwoOfFourIs503WithTheRuleAsReason) {
  HeldPort a(HeldPort::Mode::kListening), b(HeldPort::Mode::kListening);
  Start({a.port(), b.port(), 0, 0});
  HttpReply ready = WaitForStatus(gateway_.url("/ready"), 200, kSettle);
  // First round done, not draining: ready even though the rule fails.
  ASSERT_EQ(ready.status, 200) << ready.body << ready.error;
  HttpReply reply = Curl(gateway_.url("/health"));
  ASSERT_EQ(reply.status, 503) << reply.body;
  ExpectHealthBody(reply, "unhealthy", 2, 4);
  absl::StatusOr<google::protobuf::Struct> json = ParseJsonObject(reply.body);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(Field(*json, "reason").string_value(), "2 of 4 RTSP ports healthy, 3 required");
  // HEAD: same status, no body.
  HttpReply head = Curl(gateway_.url("/health"), {"-I"});
  EXPECT_EQ(head.status, 503);
  EXPECT_EQ(head.body, "");
}

// health.require_live_streams through the real binaries: a stream whose
// source ends (15 frames, then EOS) fails, so "" turns NOT_SERVING although
// every port is up, and /health says which stream and why.
TEST_F(GatewayStatusTest, RequireLiveStreamsTurnsHealth503NamingTheFailedStream) {
  const std::string yaml =
      "listeners:\n  - {name: l0, bind_address: 127.0.0.1, port: 0}\n"
      "streams:\n"
      "  - {path: /cam, plugin: testpattern, parameters: {width: 160, height: 120, fps: 5}}\n"
      "  - path: /short\n"
      "    plugin: pipeline\n"
      "    parameters:\n"
      "      description: \"videotestsrc is-live=true num-buffers=15 ! "
      "video/x-raw,format=I420,width=160,height=120,framerate=10/1 ! jpegenc ! rtpjpegpay "
      "name=pay0\"\n"
      "health: {probe_interval: 200ms, probe_timeout: 300ms, require_live_streams: true}\n"
      "drain_timeout: 0s\n";
  ASSERT_TRUE(server_.StartWithConfig(yaml).ok()) << server_.output();
  ASSERT_TRUE(gateway_.Start(absl::StrCat("127.0.0.1:", server_.grpc_port())).ok())
      << gateway_.output();
  const std::string expected_reason = "stream /short failed: end of stream (track 0)";
  // The Watch turns /health 503 first; the reason comes with the next report
  // (report_interval 500 ms), so poll for it within a bound.
  HttpReply reply = WaitForStatus(gateway_.url("/health"), 503, kSettle);
  absl::Time deadline = absl::Now() + absl::Seconds(3);
  while (!absl::StrContains(reply.body, expected_reason) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    reply = Curl(gateway_.url("/health"));
  }
  ASSERT_EQ(reply.status, 503) << reply.body;
  ExpectHealthBody(reply, "unhealthy", 1, 1);
  absl::StatusOr<google::protobuf::Struct> json = ParseJsonObject(reply.body);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(Field(*json, "reason").string_value(), expected_reason);

  HttpReply detailed = Curl(gateway_.url("/health?detailed=true"));
  absl::StatusOr<google::protobuf::Struct> details = ParseJsonObject(detailed.body);
  ASSERT_TRUE(details.ok()) << details.status();
  EXPECT_TRUE(Field(*details, "require_live_streams").bool_value());
  const auto& services = Field(*details, "services").struct_value().fields();
  EXPECT_EQ(services.at("").string_value(), "unhealthy");
  EXPECT_EQ(services.at("rtsp").string_value(), "healthy");
  EXPECT_EQ(services.at("stream:/cam").string_value(), "healthy");
  EXPECT_EQ(services.at("stream:/short").string_value(), "unhealthy");
  for (const auto& stream : Field(*details, "streams").list_value().values()) {
    const auto& fields = stream.struct_value().fields();
    if (fields.at("path").string_value() == "/short") {
      EXPECT_EQ(fields.at("state").string_value(), "failed");
      EXPECT_EQ(fields.at("reason").string_value(), "end of stream (track 0)");
    } else {
      EXPECT_EQ(fields.at("state").string_value(), "live");
      EXPECT_GT(fields.at("fps").number_value(), 0);
      EXPECT_GT(fields.at("bitrate_bps").number_value(), 0);
    }
  }

  auto families = ParsePrometheusText(Curl(gateway_.url("/metrics")).body);
  ASSERT_TRUE(families.ok()) << families.status();
  for (const auto& sample : families->at("rtsp_test_server_stream_live").samples) {
    EXPECT_EQ(sample.value, sample.labels.at("path") == "/cam" ? 1 : 0) << sample.labels.at("path");
  }
}

TEST_F(GatewayStatusTest, SigtermDrainIs503DrainingAtOnce) {
  Start({0, 0, 0, 0}, "5s");
  ASSERT_EQ(WaitForStatus(gateway_.url("/health"), 200, kSettle).status, 200);
  // A connected RTSP client keeps the drain going for its 5 s.
  tools::RtspClient reader(server_.url("l0", "/cam"));
  ASSERT_TRUE(reader.Connect(absl::Seconds(5)).ok());
  ASSERT_TRUE(reader.Options(absl::Seconds(5)).ok());

  absl::Time sent = absl::Now();
  kill(server_.pid(), SIGTERM);
  HttpReply reply = WaitForStatus(gateway_.url("/health"), 503, absl::Seconds(3));
  absl::Duration took = absl::Now() - sent;
  ASSERT_EQ(reply.status, 503) << reply.body;
  EXPECT_LT(took, absl::Seconds(1));
  // The Watch may deliver NOT_SERVING a moment before the report says
  // draining; within the drain the reason settles on "draining".
  absl::Time deadline = absl::Now() + absl::Seconds(2);
  while (JsonStringField(reply.body, "reason") != "draining" && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    reply = Curl(gateway_.url("/health"));
  }
  EXPECT_EQ(reply.status, 503);
  // The drain closed the listening sockets, so probes start failing: the
  // open count falls from 4 to 0 at some point during the drain.
  ExpectHealthBody(reply, "unhealthy", -1, 4);
  EXPECT_EQ(JsonStringField(reply.body, "reason"), "draining") << reply.body;
  HttpReply ready = Curl(gateway_.url("/ready"));
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(JsonStringField(ready.body, "reason"), "draining") << ready.body;

  // The drain ends when the reader leaves; the gRPC port closes with it.
  reader.Close();
  absl::StatusOr<int> exit_code = server_.WaitForExit(absl::Seconds(10));
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 0);
  HttpReply after = Curl(gateway_.url("/health"));
  EXPECT_EQ(after.status, 503);
  EXPECT_TRUE(absl::StrContains(after.body, "control plane unreachable")) << after.body;
  EXPECT_TRUE(absl::StrContains(after.body, "(server was draining)")) << after.body;
}

// The shipped config/default.yaml with free ports, through the embedded
// gateway: /rtsp-urls lists every stream on its listeners, /metrics parses.
class EmbeddedDefaultConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Every port bound to 0 and read back from the log: nothing can race.
    ASSERT_TRUE(server_
                    .Start({absl::StrCat("--config=", RunfilePath("config/default.yaml")),
                            "--rtsp_ports=0,0,0,0", "--bind=127.0.0.1", "--http_port=0"})
                    .ok())
        << server_.output();
    ASSERT_TRUE(server_.WaitForOutput("\"msg\":\"http gateway serving\"", absl::Seconds(5)))
        << server_.output();
    for (int i = 0; i < 4; ++i) {
      rtsp_ports_.push_back(server_.port(absl::StrCat("rtsp-ephemeral-", i)));
      ASSERT_NE(rtsp_ports_.back(), 0) << server_.output();
    }
    http_port_ = server_.http_port();
    ASSERT_NE(http_port_, 0) << server_.output();
  }
  std::string Url(const std::string& path) {
    return absl::StrCat("http://127.0.0.1:", http_port_, path);
  }

  std::vector<int> rtsp_ports_;
  int http_port_ = 0;
  ServerProcess server_;
};

TEST_F(EmbeddedDefaultConfigTest, RtspUrlsListEveryStreamWithTheRequestHost) {
  ASSERT_EQ(WaitForStatus(Url("/health"), 200, kSettle).status, 200);
  HttpReply reply = Curl(Url("/rtsp-urls"), {"-H", "Host: cams.example:8080"});
  ASSERT_EQ(reply.status, 200) << reply.body;
  absl::StatusOr<google::protobuf::Struct> json = ParseJsonObject(reply.body);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(Field(*json, "host").string_value(), "cams.example");
  const auto& streams = Field(*json, "streams").list_value().values();
  std::vector<std::string> paths;
  for (const auto& stream : streams) {
    const auto& fields = stream.struct_value().fields();
    const std::string path = fields.at("path").string_value();
    paths.push_back(path);
    std::vector<std::string> urls;
    for (const auto& url : fields.at("urls").list_value().values())
      urls.push_back(url.string_value());
    if (path == "/cam4") {
      // Served on the fourth listener only (listeners: [rtsp-8557]).
      EXPECT_EQ(urls, std::vector<std::string>{
                          absl::StrCat("rtsp://cams.example:", rtsp_ports_[3], "/cam4")});
    } else {
      ASSERT_EQ(urls.size(), 4u) << path;
      for (int i = 0; i < 4; ++i)
        EXPECT_EQ(urls[i], absl::StrCat("rtsp://cams.example:", rtsp_ports_[i], path));
    }
  }
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"/cam1", "/cam2", "/cam3", "/cam4", "/lobby"}));
}

TEST_F(EmbeddedDefaultConfigTest, MetricsParseAsPrometheusText) {
  ASSERT_EQ(WaitForStatus(Url("/health"), 200, kSettle).status, 200);
  HttpReply reply = Curl(Url("/metrics"));
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.headers.at("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  auto families = ParsePrometheusText(reply.body);
  ASSERT_TRUE(families.ok()) << families.status() << "\n" << reply.body;
  for (const char* name :
       {"rtsp_test_server_health_status", "rtsp_test_server_probe_latency_seconds",
        "rtsp_test_server_probe_consecutive_failures", "rtsp_test_server_stream_readers",
        "rtsp_test_server_stream_bytes_produced_total",
        "rtsp_test_server_rtsp_connections_opened_total",
        "rtsp_test_server_rtsp_connections_closed_total", "rtsp_test_server_uptime_seconds",
        "rtsp_test_server_build_info", "rtsp_test_server_stream_live",
        "rtsp_test_server_stream_state", "rtsp_test_server_stream_fps",
        "rtsp_test_server_stream_bitrate_bits_per_second",
        "rtsp_test_server_stream_last_frame_age_seconds",
        "rtsp_test_server_stream_frames_produced_total",
        "rtsp_test_server_stream_stall_timeout_seconds"}) {
    ASSERT_EQ(families->count(name), 1u) << name << "\n" << reply.body;
    EXPECT_FALSE(families->at(name).help.empty()) << name;
  }
  EXPECT_EQ(families->at("rtsp_test_server_stream_readers").samples.size(), 5u);
  EXPECT_EQ(families->at("rtsp_test_server_stream_state").samples.size(), 5u * 4u);
  EXPECT_EQ(families->at("rtsp_test_server_stream_stall_timeout_seconds").samples[0].value, 2);
  // Every stream of the shipped config produces media continuously: within
  // a few seconds of start each is live with a measured frame rate. ("" may
  // be SERVING before the first evaluations, by default it follows the
  // ports only; and a rate needs two samples.) Bounded polling.
  auto all = [](const PrometheusFamily& family, auto predicate) {
    if (family.samples.size() != 5u) return false;
    for (const auto& sample : family.samples) {
      if (!predicate(sample.value)) return false;
    }
    return true;
  };
  auto settled = [&](const std::map<std::string, PrometheusFamily>& f) {
    return all(f.at("rtsp_test_server_stream_live"), [](double v) { return v == 1; }) &&
           all(f.at("rtsp_test_server_stream_fps"), [](double v) { return v > 0; }) &&
           all(f.at("rtsp_test_server_stream_bitrate_bits_per_second"),
               [](double v) { return v > 0; });
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (!settled(*families) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    auto again = ParsePrometheusText(Curl(Url("/metrics")).body);
    ASSERT_TRUE(again.ok()) << again.status();
    families = std::move(again);
  }
  for (const auto& sample : families->at("rtsp_test_server_stream_live").samples) {
    EXPECT_EQ(sample.value, 1) << sample.labels.at("path");
  }
  for (const auto& sample : families->at("rtsp_test_server_stream_fps").samples) {
    EXPECT_GT(sample.value, 0) << sample.labels.at("path");
  }
  for (const auto& sample :
       families->at("rtsp_test_server_stream_last_frame_age_seconds").samples) {
    EXPECT_LT(sample.value, 2) << sample.labels.at("path");
  }
  EXPECT_EQ(families->at("rtsp_test_server_probe_latency_seconds").samples.size(), 4u);
  EXPECT_EQ(families->at("rtsp_test_server_build_info").samples[0].labels.at("version"), "0.1.0");
  EXPECT_EQ(families->at("rtsp_test_server_gateway_control_plane_up").samples[0].value, 1);
  for (const auto& sample : families->at("rtsp_test_server_health_status").samples) {
    if (sample.labels.at("service").empty()) {
      EXPECT_EQ(sample.value, 1);
    }
  }
  // The probes themselves are RTSP connections, so the counter moves.
  EXPECT_GT(families->at("rtsp_test_server_rtsp_connections_opened_total").samples[0].value, 0);
}

TEST_F(EmbeddedDefaultConfigTest, SigtermTurnsTheEmbeddedGateway503ThenExitsZero) {
  ASSERT_EQ(WaitForStatus(Url("/health"), 200, kSettle).status, 200);
  // An open RTSP connection keeps the drain (and the gateway) going.
  tools::RtspClient reader(absl::StrCat("rtsp://127.0.0.1:", rtsp_ports_[0], "/cam1"));
  ASSERT_TRUE(reader.Connect(absl::Seconds(5)).ok());
  ASSERT_TRUE(reader.Options(absl::Seconds(5)).ok());
  kill(server_.pid(), SIGTERM);
  HttpReply reply = WaitForStatus(Url("/health"), 503, absl::Seconds(1));
  EXPECT_EQ(reply.status, 503) << reply.body;
  reply = Curl(Url("/health"));
  EXPECT_EQ(JsonStringField(reply.body, "reason"), "draining") << reply.body;
  reader.Close();
  absl::StatusOr<int> exit_code = server_.WaitForExit(absl::Seconds(15));
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 0) << server_.output();
}

}  // namespace
}  // namespace rtsptest::testing
