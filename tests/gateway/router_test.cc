// Unit tests of the gateway's pure parts: verdicts, router, JSON, HTML and
// Prometheus renderers, host handling; and of the strict Prometheus parser
// the integration tests rely on.
#include "gateway/router.h"

#include <map>
#include <string>

#include "absl/strings/match.h"
#include "gateway/control_plane_view.h"
#include "gateway/html_renderer.h"
#include "gateway/json_renderer.h"
#include "gateway/prometheus_renderer.h"
#include "gateway/stream_urls.h"
#include "gtest/gtest.h"
#include "tests/gateway/gateway_test_util.h"

namespace rtsptest::gateway {
namespace {

using testing::ParseJsonObject;
using testing::ParsePrometheusText;

const absl::Time kNow = absl::FromUnixMillis(1693161234567);

control::v1::HealthReport FourPortReport(int healthy) {
  control::v1::HealthReport report;
  report.set_version("0.1.0");
  report.set_serving(healthy >= 3);
  report.set_first_round_done(true);
  report.set_min_healthy_listeners(3);
  report.set_total_listeners(4);
  report.set_healthy_listeners(healthy);
  report.mutable_checked_at()->set_seconds(1693161234);
  report.mutable_checked_at()->set_nanos(500000000);
  report.mutable_uptime()->set_seconds(42);
  report.set_rtsp_connections_opened(10);
  report.set_rtsp_connections_closed(7);
  report.set_probe_rounds(21);
  for (int i = 0; i < 4; ++i) {
    control::v1::ListenerReport* listener = report.add_listeners();
    listener->set_name("rtsp-" + std::to_string(8554 + i));
    listener->set_port(8554 + i);
    listener->set_bound(true);
    listener->set_healthy(i < healthy);
    if (i >= healthy) listener->set_last_error("connection refused");
    listener->mutable_last_probe_latency()->set_nanos(1500000);
    listener->set_consecutive_failures(i < healthy ? 0 : 3);
    (*report.mutable_services())["rtsp:" + std::to_string(8554 + i)] = i < healthy;
  }
  (*report.mutable_services())[""] = healthy >= 3;
  (*report.mutable_services())["rtsp"] = healthy >= 3;
  (*report.mutable_services())["control"] = true;
  control::v1::StreamReport* cam = report.add_streams();
  cam->set_path("/cam1");
  cam->set_plugin("testpattern");
  cam->set_description("bars <&> \"quoted\"");
  for (int i = 0; i < 4; ++i) cam->add_listeners("rtsp-" + std::to_string(8554 + i));
  cam->set_readers(2);
  cam->set_bytes_produced(123456);
  cam->set_state(control::v1::STREAM_STATE_LIVE);
  cam->mutable_last_frame_age()->set_nanos(40000000);
  cam->set_fps(29.97);
  cam->set_bits_per_second(1234567);
  cam->set_frames_produced(1200);
  (*report.mutable_services())["stream:/cam1"] = true;
  control::v1::StreamReport* only = report.add_streams();
  only->set_path("/cam4");
  only->add_listeners("rtsp-8557");
  only->set_state(control::v1::STREAM_STATE_STALLED);
  only->set_state_reason("no frame for 3.2s (track 0; stall_timeout 2s)");
  only->mutable_last_frame_age()->set_seconds(3);
  only->mutable_last_frame_age()->set_nanos(200000000);
  only->set_frames_produced(77);
  (*report.mutable_services())["stream:/cam4"] = false;
  report.mutable_stall_timeout()->set_seconds(2);
  return report;
}

ControlPlaneView Reachable(int healthy) {
  ControlPlaneView view;
  view.grpc_addr = "127.0.0.1:50051";
  view.reachable = true;
  view.overall = healthy >= 3 ? WatchedStatus::kServing : WatchedStatus::kNotServing;
  view.report = FourPortReport(healthy);
  view.report_time = kNow - absl::Milliseconds(300);
  return view;
}

HttpRequest Get(const std::string& path) {
  HttpRequest request;
  request.method = "GET";
  request.path = path;
  request.host = "cams.example:8080";
  return request;
}

HttpResponse RouteAt(const HttpRequest& request, const ControlPlaneView& view) {
  RouterContext context;
  context.started = kNow - absl::Seconds(5);
  return Route(request, view, context, kNow);
}

TEST(VerdictTest, HealthyWhenServing) {
  Verdict verdict = EvaluateHealth(Reachable(4));
  EXPECT_TRUE(verdict.ok);
  EXPECT_EQ(verdict.reason, "");
}

TEST(VerdictTest, KOfNReasonWhenNotServing) {
  EXPECT_EQ(EvaluateHealth(Reachable(2)).reason, "2 of 4 RTSP ports healthy, 3 required");
}

TEST(VerdictTest, RequireLiveStreamsReasonNamesTheStreamsThatAreNotLive) {
  ControlPlaneView view = Reachable(4);
  view.overall = WatchedStatus::kNotServing;
  view.report->set_require_live_streams(true);
  EXPECT_EQ(EvaluateHealth(view).reason,
            "stream /cam4 stalled: no frame for 3.2s (track 0; stall_timeout 2s)");
  // Ports below k: the rule is the reason, whatever the streams.
  ControlPlaneView ports = Reachable(2);
  ports.report->set_require_live_streams(true);
  EXPECT_EQ(EvaluateHealth(ports).reason, "2 of 4 RTSP ports healthy, 3 required");
}

TEST(VerdictTest, StreamStateNames) {
  EXPECT_STREQ(StreamStateName(control::v1::STREAM_STATE_STARTING), "starting");
  EXPECT_STREQ(StreamStateName(control::v1::STREAM_STATE_LIVE), "live");
  EXPECT_STREQ(StreamStateName(control::v1::STREAM_STATE_STALLED), "stalled");
  EXPECT_STREQ(StreamStateName(control::v1::STREAM_STATE_FAILED), "failed");
  EXPECT_STREQ(StreamStateName(control::v1::STREAM_STATE_UNSPECIFIED), "unknown");
}

TEST(VerdictTest, DrainingWinsOverServing) {
  ControlPlaneView view = Reachable(4);
  view.report->set_draining(true);
  EXPECT_EQ(EvaluateHealth(view).reason, "draining");
  EXPECT_EQ(EvaluateReadiness(view).reason, "draining");
}

TEST(VerdictTest, UnreachableNamesAddressAndError) {
  ControlPlaneView view = Reachable(4);
  view.reachable = false;
  view.unreachable_error = "Watch: UNAVAILABLE: Socket closed";
  Verdict verdict = EvaluateHealth(view);
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.reason,
            "control plane unreachable at 127.0.0.1:50051: Watch: UNAVAILABLE: Socket closed");
}

TEST(VerdictTest, ReadyIgnoresKOfNButNeedsFirstRound) {
  EXPECT_TRUE(EvaluateReadiness(Reachable(2)).ok);
  ControlPlaneView starting = Reachable(0);
  starting.report->set_first_round_done(false);
  EXPECT_EQ(EvaluateReadiness(starting).reason, "starting: first probe round not finished");
  EXPECT_EQ(EvaluateHealth(starting).reason, "starting: first probe round not finished");
}

TEST(RouterTest, HealthIs200WithTheSeedBody) {
  HttpResponse response = RouteAt(Get("/health"), Reachable(4));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(
      response.body,
      "{\"status\":\"healthy\",\"open_ports\":4,\"total_ports\":4,\"timestamp\":1693161234.567}\n");
}

TEST(RouterTest, HealthIs503WithReasonBelowK) {
  HttpResponse response = RouteAt(Get("/health"), Reachable(2));
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(
      response.body,
      "{\"status\":\"unhealthy\",\"open_ports\":2,\"total_ports\":4,\"timestamp\":1693161234.567,"
      "\"reason\":\"2 of 4 RTSP ports healthy, 3 required\"}\n");
}

TEST(RouterTest, DetailedHealthHasEveryField) {
  HttpRequest request = Get("/health");
  request.query["detailed"] = "true";
  HttpResponse response = RouteAt(request, Reachable(3));
  ASSERT_EQ(response.status, 200);
  absl::StatusOr<google::protobuf::Struct> json = ParseJsonObject(response.body);
  ASSERT_TRUE(json.ok()) << json.status();
  const auto& f = json->fields();
  EXPECT_EQ(f.at("version").string_value(), "0.1.0");
  EXPECT_EQ(f.at("services").struct_value().fields().at("").string_value(), "healthy");
  EXPECT_EQ(f.at("services").struct_value().fields().at("rtsp:8557").string_value(), "unhealthy");
  const auto& ports = f.at("ports").list_value().values();
  ASSERT_EQ(ports.size(), 4);
  const auto& down = ports[3].struct_value().fields();
  EXPECT_EQ(down.at("port").number_value(), 8557);
  EXPECT_EQ(down.at("state").string_value(), "unhealthy");
  EXPECT_EQ(down.at("last_error").string_value(), "connection refused");
  EXPECT_DOUBLE_EQ(down.at("latency_ms").number_value(), 1.5);
  EXPECT_EQ(f.at("rule").struct_value().fields().at("k").number_value(), 3);
  EXPECT_EQ(f.at("rule").struct_value().fields().at("n").number_value(), 4);
  EXPECT_EQ(f.at("checked_at").string_value(), "2023-08-27T18:33:54.500Z");
  EXPECT_EQ(f.at("require_live_streams").bool_value(), false);
  EXPECT_EQ(f.at("stall_timeout_seconds").number_value(), 2);
  EXPECT_EQ(f.at("services").struct_value().fields().at("stream:/cam4").string_value(),
            "unhealthy");
  const auto& streams = f.at("streams").list_value().values();
  ASSERT_EQ(streams.size(), 2);
  const auto& cam1 = streams[0].struct_value().fields();
  EXPECT_EQ(cam1.at("path").string_value(), "/cam1");
  EXPECT_EQ(cam1.at("state").string_value(), "live");
  EXPECT_EQ(cam1.at("reason").string_value(), "");
  EXPECT_DOUBLE_EQ(cam1.at("last_frame_age_seconds").number_value(), 0.04);
  EXPECT_DOUBLE_EQ(cam1.at("fps").number_value(), 29.97);
  EXPECT_EQ(cam1.at("bitrate_bps").number_value(), 1234567);
  EXPECT_EQ(cam1.at("frames_produced").number_value(), 1200);
  const auto& cam4 = streams[1].struct_value().fields();
  EXPECT_EQ(cam4.at("state").string_value(), "stalled");
  EXPECT_EQ(cam4.at("reason").string_value(), "no frame for 3.2s (track 0; stall_timeout 2s)");
  EXPECT_DOUBLE_EQ(cam4.at("last_frame_age_seconds").number_value(), 3.2);
}

TEST(RouterTest, DetailedHealthStreamsWithoutAFrameHaveNullAgeAndUnknownStateWhileUnreachable) {
  HttpRequest request = Get("/health");
  request.query["detailed"] = "true";
  ControlPlaneView view = Reachable(4);
  view.report->mutable_streams(1)->clear_last_frame_age();
  view.reachable = false;
  absl::StatusOr<google::protobuf::Struct> json = ParseJsonObject(RouteAt(request, view).body);
  ASSERT_TRUE(json.ok()) << json.status();
  const auto& streams = json->fields().at("streams").list_value().values();
  ASSERT_EQ(streams.size(), 2);
  EXPECT_EQ(streams[0].struct_value().fields().at("state").string_value(), "unknown");
  EXPECT_EQ(streams[1].struct_value().fields().at("last_frame_age_seconds").kind_case(),
            google::protobuf::Value::kNullValue);
}

TEST(RouterTest, OtherMethodsGet405WithAllow) {
  HttpRequest request = Get("/health");
  request.method = "POST";
  HttpResponse response = RouteAt(request, Reachable(4));
  EXPECT_EQ(response.status, 405);
  ASSERT_EQ(response.headers.size(), 2u);
  EXPECT_EQ(response.headers[1].first, "Allow");
  EXPECT_EQ(response.headers[1].second, "GET, HEAD");
}

TEST(RouterTest, UnknownPathIs404) {
  EXPECT_EQ(RouteAt(Get("/healthz"), Reachable(4)).status, 404);
}

TEST(RouterTest, HeadIsAnsweredLikeGet) {
  HttpRequest request = Get("/ready");
  request.method = "HEAD";
  EXPECT_EQ(RouteAt(request, Reachable(4)).status, 200);
}

TEST(RouterTest, LiveIs200EvenWhenUnreachable) {
  ControlPlaneView view;
  HttpResponse response = RouteAt(Get("/live"), view);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body,
            "{\"status\":\"alive\",\"uptime_seconds\":5.000,\"timestamp\":1693161234.567}\n");
}

TEST(RouterTest, RtspUrlsUseHostHeaderWithoutPortAndSkipOtherListeners) {
  HttpResponse response = RouteAt(Get("/rtsp-urls"), Reachable(4));
  ASSERT_EQ(response.status, 200);
  absl::StatusOr<google::protobuf::Struct> json = ParseJsonObject(response.body);
  ASSERT_TRUE(json.ok()) << json.status();
  const auto& streams = json->fields().at("streams").list_value().values();
  ASSERT_EQ(streams.size(), 2);
  const auto& urls = streams[0].struct_value().fields().at("urls").list_value().values();
  ASSERT_EQ(urls.size(), 4);
  EXPECT_EQ(urls[0].string_value(), "rtsp://cams.example:8554/cam1");
  const auto& only = streams[1].struct_value().fields().at("urls").list_value().values();
  ASSERT_EQ(only.size(), 1);
  EXPECT_EQ(only[0].string_value(), "rtsp://cams.example:8557/cam4");
}

TEST(RouterTest, RtspUrlsIs503WhileUnreachable) {
  ControlPlaneView view = Reachable(4);
  view.reachable = false;
  EXPECT_EQ(RouteAt(Get("/rtsp-urls"), view).status, 503);
}

TEST(StreamUrlsTest, HostChoice) {
  EXPECT_EQ(UrlHost("public.example", "ignored:1"), "public.example");
  EXPECT_EQ(UrlHost("2001:db8::1", ""), "[2001:db8::1]");
  EXPECT_EQ(UrlHost("", "[::1]:8080"), "[::1]");
  EXPECT_EQ(UrlHost("", "10.0.0.5"), "10.0.0.5");
  EXPECT_EQ(UrlHost("", ""), kFallbackHost);
  EXPECT_EQ(UrlHost("", "evil\"><script>:80"), kFallbackHost);
  EXPECT_EQ(UrlHost("", "[::1<b>]:80"), kFallbackHost);
}

TEST(HtmlRendererTest, EscapesServerTextAndListsStreams) {
  ControlPlaneView view = Reachable(4);
  std::string page = RenderStatusPage(view, EvaluateHealth(view), "cams.example", kNow);
  EXPECT_TRUE(absl::StrContains(page, "bars &lt;&amp;&gt; &quot;quoted&quot;"));
  EXPECT_FALSE(absl::StrContains(page, "<&>"));
  EXPECT_TRUE(absl::StrContains(page, "rtsp://cams.example:8554/cam1"));
  EXPECT_TRUE(absl::StrContains(page, "HEALTHY"));
  EXPECT_FALSE(absl::StrContains(page, "<script"));
}

TEST(HtmlRendererTest, ShowsEachStreamsStateRatesAndAFrozenStreamStandsOut) {
  ControlPlaneView view = Reachable(4);
  std::string page = RenderStatusPage(view, EvaluateHealth(view), "h", kNow);
  EXPECT_TRUE(absl::StrContains(page, "<p id=\"streams-live\">1 of 2 streams live.</p>")) << page;
  EXPECT_TRUE(absl::StrContains(page, "<tr class=\"live\"><td><code>/cam1</code>")) << page;
  EXPECT_TRUE(
      absl::StrContains(page,
                        "<td class=\"state live\">live</td><td>30.0</td><td>1.23 Mbit/s</td>"
                        "<td>0.0 s ago</td>"))
      << page;
  EXPECT_TRUE(absl::StrContains(page, "<tr class=\"stalled\"><td><code>/cam4</code>")) << page;
  EXPECT_TRUE(
      absl::StrContains(page,
                        "<td class=\"state stalled\">stalled<span class=\"why\">no frame for "
                        "3.2s (track 0; stall_timeout 2s)</span></td><td>0.0</td><td>0 bit/s</td>"
                        "<td>3.2 s ago</td>"))
      << page;
}

TEST(HtmlRendererTest, ShowsTheReasonWhenUnhealthy) {
  ControlPlaneView view = Reachable(1);
  std::string page = RenderStatusPage(view, EvaluateHealth(view), "h", kNow);
  EXPECT_TRUE(absl::StrContains(page, "UNHEALTHY"));
  EXPECT_TRUE(absl::StrContains(page, "1 of 4 RTSP ports healthy, 3 required"));
}

TEST(PrometheusRendererTest, ParsesStrictlyAndCarriesTheFigures) {
  ControlPlaneView view = Reachable(3);
  view.report->mutable_streams(0)->set_path("/we\"ird\\path");
  HttpResponse response = RouteAt(Get("/metrics"), view);
  EXPECT_EQ(response.content_type, kPrometheusContentType);
  auto families = ParsePrometheusText(response.body);
  ASSERT_TRUE(families.ok()) << families.status() << "\n" << response.body;
  const auto& status = families->at("rtsp_test_server_health_status");
  EXPECT_EQ(status.type, "gauge");
  bool overall_seen = false;
  for (const auto& sample : status.samples) {
    if (sample.labels.at("service") == "") {
      overall_seen = true;
      EXPECT_EQ(sample.value, 1);
    }
  }
  EXPECT_TRUE(overall_seen);
  EXPECT_EQ(families->at("rtsp_test_server_stream_readers").samples[0].labels.at("path"),
            "/we\"ird\\path");
  EXPECT_EQ(families->at("rtsp_test_server_stream_bytes_produced_total").type, "counter");
  EXPECT_EQ(families->at("rtsp_test_server_rtsp_connections_opened_total").samples[0].value, 10);
  EXPECT_EQ(families->at("rtsp_test_server_build_info").samples[0].labels.at("version"), "0.1.0");
  EXPECT_DOUBLE_EQ(families->at("rtsp_test_server_probe_latency_seconds").samples[0].value, 0.0015);
  EXPECT_EQ(families->at("rtsp_test_server_probe_consecutive_failures").samples[3].value, 3);
}

TEST(PrometheusRendererTest, ListenerProtectionCountersByReason) {
  ControlPlaneView view = Reachable(4);
  control::v1::ListenerReport* listener = view.report->mutable_listeners(1);
  listener->set_max_connections(4744);
  listener->set_refused_over_limit(3);
  listener->set_requests_over_limits(8);
  listener->set_stalled_readers_dropped(2);
  listener->set_idle_connections_closed(5);
  listener->set_accept_failures(7);
  auto families = ParsePrometheusText(RenderMetrics(view, EvaluateHealth(view), kNow));
  ASSERT_TRUE(families.ok()) << families.status();
  EXPECT_EQ(families->at("rtsp_test_server_listener_max_connections").samples[1].value, 4744);
  const auto& ended = families->at("rtsp_test_server_listener_connections_ended_total");
  EXPECT_EQ(ended.type, "counter");
  std::map<std::string, double> by_reason;
  for (const auto& sample : ended.samples) {
    if (sample.labels.at("listener") == listener->name()) {
      by_reason[sample.labels.at("reason")] = sample.value;
    }
  }
  EXPECT_EQ(
      by_reason,
      (std::map<std::string, double>{
          {"connection_limit", 3}, {"request_limits", 8}, {"stalled_reader", 2}, {"idle", 5}}));
  EXPECT_EQ(families->at("rtsp_test_server_listener_accept_failures_total").samples[1].value, 7);
}

TEST(PrometheusRendererTest, StreamLivenessFamiliesWithUnits) {
  ControlPlaneView view = Reachable(4);
  view.report->mutable_streams(1)->clear_last_frame_age();  // No frame yet: no age sample.
  auto families = ParsePrometheusText(RenderMetrics(view, EvaluateHealth(view), kNow));
  ASSERT_TRUE(families.ok()) << families.status();
  const auto& live = families->at("rtsp_test_server_stream_live");
  EXPECT_EQ(live.type, "gauge");
  ASSERT_EQ(live.samples.size(), 2u);
  EXPECT_EQ(live.samples[0].labels.at("path"), "/cam1");
  EXPECT_EQ(live.samples[0].value, 1);
  EXPECT_EQ(live.samples[1].value, 0);
  // One sample per state and stream; 1 for the current state only.
  const auto& state = families->at("rtsp_test_server_stream_state");
  ASSERT_EQ(state.samples.size(), 8u);
  for (const auto& sample : state.samples) {
    bool current = (sample.labels.at("path") == "/cam1" && sample.labels.at("state") == "live") ||
                   (sample.labels.at("path") == "/cam4" && sample.labels.at("state") == "stalled");
    EXPECT_EQ(sample.value, current ? 1 : 0)
        << sample.labels.at("path") << " " << sample.labels.at("state");
  }
  const auto& age = families->at("rtsp_test_server_stream_last_frame_age_seconds");
  ASSERT_EQ(age.samples.size(), 1u);
  EXPECT_DOUBLE_EQ(age.samples[0].value, 0.04);
  EXPECT_DOUBLE_EQ(families->at("rtsp_test_server_stream_fps").samples[0].value, 29.97);
  EXPECT_DOUBLE_EQ(families->at("rtsp_test_server_stream_bitrate_bits_per_second").samples[0].value,
                   1234567);
  EXPECT_EQ(families->at("rtsp_test_server_stream_frames_produced_total").type, "counter");
  EXPECT_EQ(families->at("rtsp_test_server_stream_frames_produced_total").samples[1].value, 77);
  EXPECT_EQ(families->at("rtsp_test_server_stream_stall_timeout_seconds").samples[0].value, 2);
}

TEST(PrometheusRendererTest, UnreachableWritesOnlyGatewayFamilies) {
  ControlPlaneView view = Reachable(4);
  view.reachable = false;
  auto families = ParsePrometheusText(RenderMetrics(view, EvaluateHealth(view), kNow));
  ASSERT_TRUE(families.ok()) << families.status();
  EXPECT_EQ(families->at("rtsp_test_server_gateway_control_plane_up").samples[0].value, 0);
  EXPECT_EQ(families->at("rtsp_test_server_health_status").samples.size(), 1u);
  EXPECT_EQ(families->count("rtsp_test_server_stream_readers"), 0u);
}

TEST(PrometheusParserTest, RejectsMalformedText) {
  EXPECT_FALSE(ParsePrometheusText("# TYPE a gauge\na 1").ok());               // no final newline
  EXPECT_FALSE(ParsePrometheusText("a 1\n").ok());                             // no TYPE
  EXPECT_FALSE(ParsePrometheusText("# TYPE a gauge\na{x=\"\\t\"} 1\n").ok());  // bad escape
  EXPECT_FALSE(ParsePrometheusText("# TYPE a gauge\na 1\na 2\n").ok());        // duplicate
  EXPECT_FALSE(
      ParsePrometheusText("# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"1\"} 1\n").ok());
  EXPECT_FALSE(ParsePrometheusText("# TYPE a gauge\na one\n").ok());
  EXPECT_FALSE(ParsePrometheusText("# TYPE 1a gauge\n").ok());
  EXPECT_TRUE(ParsePrometheusText("# HELP a x\n# TYPE a gauge\na{x=\"\\\"\"} 1.5e-05\n").ok());
}

}  // namespace
}  // namespace rtsptest::gateway
