// RtspListener answering real RTSP requests on a loopback socket.
#include "core/listener/rtsp_listener.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/core/listener/raw_video_mount.h"
#include "tests/core/listener/rtsp_test_client.h"
#include "tests/util/loopback.h"

namespace rtsptest::core {
namespace {

// Sends one request on a new connection and returns the response's status
// line and headers (up to the blank line), or "" on a timeout.
std::string Exchange(int port, const std::string& request) {
  int fd = testing::ConnectLoopback(port);
  if (fd < 0) return "";
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string response;
  if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    while (!absl::StrContains(response, "\r\n\r\n")) {
      ssize_t n = read(fd, buffer, sizeof(buffer));
      if (n <= 0) break;
      response.append(buffer, static_cast<size_t>(n));
    }
  }
  close(fd);
  return response.substr(0, response.find("\r\n\r\n"));
}

// The value of header `name` in `response`, or "".
std::string Header(const std::string& response, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(response, "\r\n")) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(':', 1));
    if (absl::EqualsIgnoreCase(kv.first, name))
      return std::string(absl::StripAsciiWhitespace(kv.second));
  }
  return "";
}

std::set<std::string> Methods(const std::string& public_header) {
  std::set<std::string> methods;
  for (absl::string_view method : absl::StrSplit(public_header, ',', absl::SkipEmpty())) {
    methods.insert(std::string(absl::StripAsciiWhitespace(method)));
  }
  return methods;
}

class RtspListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::MountRawVideo(listener_, "/cam");
    ASSERT_TRUE(listener_.Start().ok());
  }
  int port() const { return static_cast<int>(listener_.bound_port()); }
  std::string Url(absl::string_view path) const {
    return absl::StrCat("rtsp://127.0.0.1:", port(), path);
  }

  RtspListener listener_{"test", "127.0.0.1", 0};
};

TEST_F(RtspListenerTest, OptionsListsOnlyTheMethodsItServes) {
  std::string response = Exchange(port(), absl::StrCat("OPTIONS rtsp://127.0.0.1:", port(),
                                                       "/cam RTSP/1.0\r\nCSeq: 1\r\n\r\n"));
  ASSERT_TRUE(absl::StartsWith(response, "RTSP/1.0 200 OK")) << response;
  EXPECT_EQ(Methods(Header(response, "Public")),
            (std::set<std::string>{"OPTIONS", "DESCRIBE", "SETUP", "PLAY", "PAUSE", "TEARDOWN",
                                   "GET_PARAMETER", "SET_PARAMETER"}))
      << response;
}

// What the Public header leaves out is what the server refuses: it serves
// no recording, so a well-formed ANNOUNCE and a RECORD in a session get 405.
TEST_F(RtspListenerTest, AnnounceAndRecordAreRefusedWithMethodNotAllowed) {
  const std::string sdp =
      "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=video 0 RTP/AVP 96\r\na=rtpmap:96 raw/90000\r\na=control:stream=0\r\n";
  std::string announce =
      Exchange(port(), absl::StrCat("ANNOUNCE ", Url("/cam"),
                                    " RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\n",
                                    "Content-Length: ", sdp.size(), "\r\n\r\n", sdp));
  EXPECT_TRUE(absl::StartsWith(announce, "RTSP/1.0 405")) << announce;

  // RECORD on the SETUP's connection: gst-rtsp-server drops a TCP session
  // when its connection closes.
  testing::RtspTestClient client(port());
  std::string setup = client.Request("SETUP", "/cam/stream=0",
                                     "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n");
  ASSERT_TRUE(absl::StartsWith(setup, "RTSP/1.0 200")) << setup;
  std::string session = testing::Header(setup, "Session");
  ASSERT_FALSE(session.empty()) << setup;
  std::string record = client.Request(
      "RECORD", "/cam", absl::StrCat("Session: ", session.substr(0, session.find(';')), "\r\n"));
  EXPECT_TRUE(absl::StartsWith(record, "RTSP/1.0 405")) << record;
}

// GET_PARAMETER and SET_PARAMETER are listed because clients send them as
// keep-alives: without a body they are answered 200 within a session.
TEST_F(RtspListenerTest, ParameterRequestsAreAnsweredAsKeepAlives) {
  // On the SETUP's connection: gst-rtsp-server drops a TCP session when its
  // connection closes.
  testing::RtspTestClient client(port());
  std::string setup = client.Request("SETUP", "/cam/stream=0",
                                     "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n");
  ASSERT_TRUE(absl::StartsWith(setup, "RTSP/1.0 200")) << setup;
  std::string session = testing::Header(setup, "Session");
  ASSERT_FALSE(session.empty()) << setup;
  const std::string session_header =
      absl::StrCat("Session: ", session.substr(0, session.find(';')), "\r\n");
  for (const char* method : {"GET_PARAMETER", "SET_PARAMETER"}) {
    std::string response = client.Request(method, "/cam", session_header);
    EXPECT_TRUE(absl::StartsWith(response, "RTSP/1.0 200")) << method << ": " << response;
  }
}

}  // namespace
}  // namespace rtsptest::core
