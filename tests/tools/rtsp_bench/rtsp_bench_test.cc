// rtsp_bench (the built binary) against a scripted RTSP server in this test:
// raw sockets, one SDP track under a Content-Base, and RTP interleaved with
// chosen sequence numbers (skipped ones, one across 65535 -> 0, a reordered
// pair and a duplicate), so that the report's counts are known exactly.
// Also its exit codes: usage errors, too few descriptors, nothing connects.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/tools/rtsp_bench/bench_runner.h"
#include "tests/util/subprocess.h"
#include "tools/rtsp_bench/auth.h"

namespace rtsptest::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kFirstSequence = 65500;
constexpr int kPackets = 200;  // packet n carries sequence (kFirstSequence + n) mod 2^16

// The order packets are sent in, by n: 5-7 lost; 35 and 36 (65535 and 0)
// lost across the wraparound; 50 sent after 51 (late, not lost); 60 sent
// twice; 100 lost.
std::vector<int> SendOrder() {
  const std::set<int> lost = {5, 6, 7, 35, 36, 100};
  std::vector<int> order;
  for (int n = 0; n < kPackets; ++n) {
    if (lost.count(n) > 0 || n == 50) continue;
    order.push_back(n);
    if (n == 51) order.push_back(50);
    if (n == 60) order.push_back(60);
  }
  return order;
}
constexpr int64_t kLost = 6;
constexpr int64_t kGapEvents = 4;  // 5-7, 35-36, 50 (until it came), 100
constexpr int64_t kLate = 1;
constexpr int64_t kDuplicates = 1;
constexpr int64_t kReceived = kPackets - 6 + 1;

std::string RtpFrame(int n) {
  const uint16_t sequence = static_cast<uint16_t>(kFirstSequence + n);
  const uint32_t timestamp = static_cast<uint32_t>(n * 3600);
  std::string rtp(12 + 100, 'x');
  rtp[0] = static_cast<char>(0x80);
  rtp[1] = 96;
  rtp[2] = static_cast<char>(sequence >> 8);
  rtp[3] = static_cast<char>(sequence & 0xff);
  for (int i = 0; i < 4; ++i) rtp[4 + i] = static_cast<char>(timestamp >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) rtp[8 + i] = static_cast<char>(0x11 * (i + 1));
  std::string frame = {'$', 0, static_cast<char>(rtp.size() >> 8),
                       static_cast<char>(rtp.size() & 0xff)};
  return frame + rtp;
}

// A minimal RTSP server: a thread per connection, answering OPTIONS,
// DESCRIBE, SETUP (TCP interleaved only), PLAY (then the scripted packets in
// one write), GET_PARAMETER and TEARDOWN, and recording what it was asked.
class ScriptedRtspServer {
 public:
  // `session_timeout`: the Session header's timeout= (keepalives every half
  // of it); `refuse_get_parameter`: answer GET_PARAMETER with 405.
  // `digest_password`: when set, every request needs Digest credentials of
  // user "cam" with this password (qop=auth), else 401.
  explicit ScriptedRtspServer(int session_timeout = 60, bool refuse_get_parameter = false,
                              std::string digest_password = "")
      : session_timeout_(session_timeout),
        refuse_get_parameter_(refuse_get_parameter),
        digest_password_(std::move(digest_password)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(listen_fd_, 64);
    socklen_t length = sizeof(address);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~ScriptedRtspServer() {
    stop_ = true;
    acceptor_.join();
    for (std::thread& t : connections_) t.join();
    close(listen_fd_);
  }

  std::string url() const { return absl::StrCat("rtsp://127.0.0.1:", port_, "/test"); }
  std::vector<std::string> requests() {
    absl::MutexLock lock(&mutex_);
    return requests_;
  }

 private:
  void Accept() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd >= 0) connections_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  void Serve(int fd) {
    std::string buffer;
    char chunk[4096];
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = read(fd, chunk, sizeof(chunk));
      if (n <= 0) {
        // How the client left: "<eof>" (FIN) or "<reset>" (RST).
        absl::MutexLock lock(&mutex_);
        requests_.push_back(n < 0 && errno == ECONNRESET ? "<reset>" : "<eof>");
        break;
      }
      buffer.append(chunk, static_cast<size_t>(n));
      size_t end;
      while ((end = buffer.find("\r\n\r\n")) != std::string::npos) {
        const std::string head = buffer.substr(0, end);
        buffer.erase(0, end + 4);
        Answer(fd, head);
      }
    }
    close(fd);
  }

  void Answer(int fd, const std::string& head) {
    std::vector<std::string> lines = absl::StrSplit(head, "\r\n");
    std::vector<std::string> words = absl::StrSplit(lines[0], ' ');
    std::string cseq = "0";
    for (const std::string& line : lines) {
      if (absl::StartsWithIgnoreCase(line, "CSeq:")) {
        cseq = std::string(absl::StripAsciiWhitespace(line.substr(5)));
      }
    }
    {
      absl::MutexLock lock(&mutex_);
      requests_.push_back(absl::StrCat(words[0], " ", words.size() > 1 ? words[1] : ""));
    }
    const std::string& method = words[0];
    // (The bench's replies to this server's own request need no credentials.)
    if (!digest_password_.empty() && method != "RTSP/1.0" &&
        !Authorized(lines, method, words.size() > 1 ? words[1] : "")) {
      {
        absl::MutexLock lock(&mutex_);
        requests_.push_back("<401>");
      }
      Send(fd, absl::StrCat("RTSP/1.0 401 Unauthorized\r\nCSeq: ", cseq,
                            "\r\nWWW-Authenticate: Digest realm=\"bench\", nonce=\"abc123\", "
                            "qop=\"auth\"\r\n\r\n"));
      return;
    }
    const bool refuse = method == "GET_PARAMETER" && refuse_get_parameter_;
    std::string reply = absl::StrCat("RTSP/1.0 ", refuse ? "405 Method Not Allowed" : "200 OK",
                                     "\r\nCSeq: ", cseq, "\r\n");
    std::string body;
    if (method == "DESCRIBE") {
      body =
          "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=scripted\r\nt=0 0\r\n"
          "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=7\r\n";
      absl::StrAppend(&reply, "Content-Base: rtsp://127.0.0.1:", port_, "/base/\r\n",
                      "Content-Type: application/sdp\r\nContent-Length: ", body.size(), "\r\n");
    } else if (method == "SETUP") {
      absl::StrAppend(&reply, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n",
                      "Session: 12345678;timeout=", session_timeout_, "\r\n");
    } else if (method != "OPTIONS") {
      absl::StrAppend(&reply, "Session: 12345678\r\n");
    }
    absl::StrAppend(&reply, "\r\n", body);
    if (method == "PLAY") {
      for (int n : SendOrder()) reply += RtpFrame(n);
      // A request of the server's own amid the media: the bench answers it.
      reply += "GET_PARAMETER * RTSP/1.0\r\nCSeq: 77\r\n\r\n";
    }
    Send(fd, reply);
  }

  static void Send(int fd, const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }

  // A parameter of an Authorization header: key="value" or key=value.
  static std::string Param(const std::string& header, const std::string& key) {
    size_t at = header.find(" " + key + "=");
    if (at == std::string::npos) return "";
    at += key.size() + 2;
    if (header[at] == '"') return header.substr(at + 1, header.find('"', at + 1) - at - 1);
    return header.substr(at, header.find(',', at) - at);
  }

  // Whether the request's Digest response is right for user "cam".
  bool Authorized(const std::vector<std::string>& lines, const std::string& method,
                  const std::string& uri) {
    for (const std::string& line : lines) {
      if (!absl::StartsWithIgnoreCase(line, "Authorization: Digest ")) continue;
      const std::string ha1 = tools::bench::Md5Hex("cam:bench:" + digest_password_);
      const std::string ha2 = tools::bench::Md5Hex(method + ":" + uri);
      const std::string expected = tools::bench::Md5Hex(absl::StrCat(
          ha1, ":abc123:", Param(line, "nc"), ":", Param(line, "cnonce"), ":auth:", ha2));
      return Param(line, "username") == "cam" && Param(line, "uri") == uri &&
             Param(line, "response") == expected;
    }
    return false;
  }

  const int session_timeout_;
  const bool refuse_get_parameter_;
  const std::string digest_password_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> connections_;  // touched by the acceptor only
  absl::Mutex mutex_;
  std::vector<std::string> requests_ ABSL_GUARDED_BY(mutex_);
};

int64_t Int(const common::Json& report, const std::string& path) {
  return At(report, path).is_number() ? At(report, path).get<int64_t>() : -1;
}

TEST(RtspBenchTest, CountsLostLateAndDuplicatePacketsExactly) {
  ScriptedRtspServer server;
  const int readers = 3;
  BenchRun run = RunBench(
      {"--url=" + server.url(), "--readers=3", "--ramp=0", "--duration=1s", "--timeout=5s"},
      "scripted");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_TRUE(run.report_ok) << run.err;
  const common::Json& r = run.report;
  EXPECT_EQ(Int(r, "totals.readers_played"), readers);
  EXPECT_EQ(Int(r, "totals.playing_at_end"), readers);
  EXPECT_EQ(Int(r, "totals.packets"), readers * kReceived);
  EXPECT_EQ(Int(r, "sequence.lost_packets"), readers * kLost);
  EXPECT_EQ(Int(r, "sequence.gap_events"), readers * kGapEvents);
  EXPECT_EQ(Int(r, "sequence.late_packets"), readers * kLate);
  EXPECT_EQ(Int(r, "sequence.duplicate_packets"), readers * kDuplicates);
  EXPECT_EQ(Int(r, "sequence.resyncs"), 0);
  EXPECT_EQ(Int(r, "sequence.readers_with_loss"), readers);
  EXPECT_EQ(Int(r, "failures.total"), 0) << r.dump(2);
  // One CSV row per reader with the same counts.
  ASSERT_EQ(run.csv_lines.size(), 1u + readers);
  EXPECT_THAT(run.csv_lines[0], HasSubstr("lost_packets,gap_events,late_packets"));
  for (int i = 1; i <= readers; ++i) {
    EXPECT_THAT(run.csv_lines[static_cast<size_t>(i)],
                HasSubstr(absl::StrCat(",", kReceived, ",", kReceived * 112, ",", kLost, ",",
                                       kGapEvents, ",", kLate, ",", kDuplicates, ",")));
  }
}

TEST(RtspBenchTest, HonoursContentBaseAndAnswersTheServersRequests) {
  ScriptedRtspServer server;
  BenchRun run = RunBench({"--url=" + server.url(), "--ramp=0", "--duration=1s"}, "base");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<std::string> requests = server.requests();
  ASSERT_GE(requests.size(), 4u);
  EXPECT_EQ(requests[0], "OPTIONS " + server.url());
  EXPECT_EQ(requests[1], "DESCRIBE " + server.url());
  EXPECT_THAT(requests[2], HasSubstr("/base/trackID=7"));
  EXPECT_TRUE(absl::StartsWith(requests[2], "SETUP rtsp://127.0.0.1:")) << requests[2];
  EXPECT_EQ(requests[3], "PLAY " + server.url());
  // Its reply to the server's GET_PARAMETER came back on the connection.
  EXPECT_THAT(requests, ::testing::Contains("RTSP/1.0 200"));
}

// Requests after PLAY, in order ("GET_PARAMETER", "OPTIONS"), without the
// bench's replies to the server's own request.
std::vector<std::string> KeepalivesOf(const std::vector<std::string>& requests) {
  std::vector<std::string> keepalives;
  bool playing = false;
  for (const std::string& request : requests) {
    if (absl::StartsWith(request, "PLAY ")) playing = true;
    if (!playing) continue;
    if (absl::StartsWith(request, "GET_PARAMETER ")) keepalives.push_back("GET_PARAMETER");
    if (absl::StartsWith(request, "OPTIONS ")) keepalives.push_back("OPTIONS");
  }
  return keepalives;
}

TEST(RtspBenchTest, KeepalivesEveryHalfTimeoutAndOptionsWhenRefused) {
  // timeout=2: a keepalive every second; the first GET_PARAMETER gets 405,
  // so the next one is OPTIONS.
  ScriptedRtspServer server(/*session_timeout=*/2, /*refuse_get_parameter=*/true);
  BenchRun run = RunBench({"--url=" + server.url(), "--ramp=0", "--duration=2500ms"}, "keepalive");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<std::string> keepalives = KeepalivesOf(server.requests());
  ASSERT_GE(keepalives.size(), 2u) << absl::StrJoin(server.requests(), "\n");
  EXPECT_LE(keepalives.size(), 3u);
  EXPECT_EQ(keepalives[0], "GET_PARAMETER");
  for (size_t i = 1; i < keepalives.size(); ++i) EXPECT_EQ(keepalives[i], "OPTIONS");
  EXPECT_EQ(At(run.report, "totals.playing_at_end"), 1);
}

TEST(RtspBenchTest, ChurnResetsReachTheServerAsResets) {
  ScriptedRtspServer server;
  BenchRun run = RunBench({"--url=" + server.url(), "--readers=5", "--ramp=0", "--churn=1",
                           "--churn_reset=1", "--churn_hold=200ms", "--duration=2s"},
                          "resets");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const int64_t drops = Int(run.report, "churn.drops");
  EXPECT_GT(drops, 5);
  EXPECT_EQ(Int(run.report, "churn.resets"), drops);
  EXPECT_GT(Int(run.report, "totals.attempts"), 5);
  int resets = 0;
  for (const std::string& r : server.requests()) resets += r == "<reset>" ? 1 : 0;
  // Every drop the server saw end was a reset (the last attempts may still
  // be open when the run ends, and close with FIN).
  EXPECT_GT(resets, 0);
  EXPECT_LE(resets, drops);
}

TEST(RtspBenchTest, AnswersDigestChallengesWithTheUrlsCredentials) {
  ScriptedRtspServer server(60, false, "p@ss word");
  const std::string url = absl::StrCat("rtsp://cam:p%40ss%20word@", server.url().substr(7));
  BenchRun run = RunBench({"--url=" + url, "--readers=2", "--ramp=0", "--duration=1s"}, "digest");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(At(run.report, "totals.playing_at_end"), 2) << run.report.dump(2);
  EXPECT_EQ(At(run.report, "sequence.lost_packets"), 2 * kLost);
  // One challenge per reader (its OPTIONS); every later request carried a
  // correct response.
  int challenges = 0;
  for (const std::string& r : server.requests()) challenges += r == "<401>" ? 1 : 0;
  EXPECT_EQ(challenges, 2);
}

TEST(RtspBenchTest, RefusedOrMissingCredentialsFailWithAClearError) {
  ScriptedRtspServer server(60, false, "right");
  BenchRun wrong = RunBench(
      {"--url=" + absl::StrCat("rtsp://cam:wrong@", server.url().substr(7)), "--duration=1s"},
      "wrong");
  EXPECT_EQ(At(wrong.report, "failures.by_stage.options.sample_error"),
            "RTSP/1.0 401 Unauthorized (the credentials were refused)")
      << wrong.report.dump(2);
  BenchRun none = RunBench({"--url=" + server.url(), "--duration=1s"}, "none");
  EXPECT_EQ(At(none.report, "failures.by_stage.options.sample_error"),
            "RTSP/1.0 401 Unauthorized (give user:password@ in the URL)");
}

TEST(RtspBenchTest, NothingConnectsExitsOne) {
  // A port nobody listens on: bound, then closed.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  BenchRun run = RunBench({absl::StrCat("--url=rtsp://127.0.0.1:", ntohs(address.sin_port), "/x"),
                           "--readers=2", "--duration=1s", "--timeout=2s"},
                          "refused");
  EXPECT_EQ(run.exit_code, 1) << run.err;
  ASSERT_TRUE(run.report_ok);
  EXPECT_EQ(Int(run.report, "failures.by_stage.connect.count"), 2);
  EXPECT_THAT(At(run.report, "failures.by_stage.connect.sample_error").get<std::string>(),
              HasSubstr("refused"));
}

TEST(RtspBenchTest, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"--url=http://127.0.0.1/x"},
           {"--url=rtsp://127.0.0.1/x", "--readers=0"},
           {"--url=rtsp://127.0.0.1/x", "--transport=quic"},
           {"--url=rtsp://127.0.0.1/x", "--churn=2"},
           {"--url=rtsp://127.0.0.1/x", "--duration=0s"},
           {"--url=rtsp://127.0.0.1/x", "--no_such_flag"},
       }) {
    BenchRun run = RunBench(args, "usage");
    EXPECT_EQ(run.exit_code, 2) << absl::StrJoin(args, " ") << "\n" << run.err;
    EXPECT_THAT(run.err, HasSubstr("rtsp_bench"));
  }
}

TEST(RtspBenchTest, TooFewDescriptorsIsAClearUsageError) {
  BenchRun run = RunBench({"--url=rtsp://127.0.0.1:9/x", "--readers=1000", "--max_fds=100"}, "fds");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("file descriptors but the limit is 100"));
}

TEST(RtspBenchTest, HelpExplainsFlagsAndExitCodes) {
  ProgramResult run = RunProgram(BenchPath(), {"--help"}, "help");
  EXPECT_EQ(run.exit_code, 0);
  for (const char* text :
       {"Usage: rtsp_bench --url=", "--readers", "--ramp", "--duration", "--transport", "--churn",
        "--json_out", "--csv_out", "--max_fds", "Exit codes:", "Examples:"}) {
    EXPECT_THAT(run.out, HasSubstr(text));
  }
}

}  // namespace
}  // namespace rtsptest::testing
