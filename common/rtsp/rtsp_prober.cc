// RtspProber: see rtsp_prober.h.
#include "common/rtsp/rtsp_prober.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/net/host_port.h"
#include "common/net/socket_util.h"
#include "common/rtsp/rtsp_response.h"

namespace rtsptest::common {
namespace {

// RTSP headers are small; anything larger is not the reply we asked for.
constexpr size_t kMaxHeaderBytes = 16 * 1024;
// An SDP for a test stream is a few hundred bytes.
constexpr size_t kMaxSdpBytes = 64 * 1024;

std::string FirstLine(absl::string_view text) {
  const size_t eol = text.find_first_of("\r\n");
  absl::string_view line = text.substr(0, eol);
  if (line.size() > 200) line = line.substr(0, 200);
  return std::string(line);
}

// Whether `line` is "RTSP/1.0 200 ...", the only reply the probe accepts.
bool IsRtsp10Ok(absl::string_view line) {
  absl::StatusOr<RtspStatusLine> status = ParseRtspStatusLine(line);
  return status.ok() && status->version == "RTSP/1.0" && status->code == 200;
}

class ProbeRun {
 public:
  ProbeRun(const ProbeOptions& options, const ProbeTarget& target)
      : options_(options),
        target_(target),
        start_(common::Clock::now()),
        deadline_(start_ + absl::ToChronoNanoseconds(options.timeout)) {}

  ProbeResult Run() {
    absl::StatusOr<common::Socket> socket =
        common::ConnectTcp(target_.host, target_.port, deadline_);
    if (!socket.ok()) return ConnectFailure(socket.status());
    const std::string base =
        absl::StrCat("rtsp://", common::JoinHostPort(target_.host, target_.port), "/");

    RtspResponse reply;
    if (!Exchange(*socket, absl::StrCat("OPTIONS ", base, " RTSP/1.0\r\nCSeq: 1\r\n"), "OPTIONS",
                  &reply)) {
      return result_;
    }
    if (options_.deep_check && !Describe(*socket, base + target_.describe_path)) {
      return result_;
    }
    result_.ok = true;
    result_.latency = Elapsed();
    return result_;
  }

 private:
  absl::Duration Elapsed() const { return absl::FromChrono(common::Clock::now() - start_); }

  // Records the failure in result_ and returns it (a copy: result_ stays
  // valid for callers that return it again).
  ProbeResult Fail(ProbeFailure failure, std::string error) {
    result_.ok = false;
    result_.failure = failure;
    result_.error = std::move(error);
    result_.reason = absl::StrCat("port ", target_.port, ": ", result_.error);
    result_.latency = Elapsed();
    return result_;
  }

  ProbeResult ConnectFailure(const absl::Status& status) {
    switch (status.code()) {
      case absl::StatusCode::kNotFound:
        return Fail(ProbeFailure::kResolveError, std::string(status.message()));
      case absl::StatusCode::kUnavailable:
        return Fail(ProbeFailure::kRefused, "connection refused");
      case absl::StatusCode::kDeadlineExceeded:
        return Fail(
            ProbeFailure::kConnectTimeout,
            absl::StrCat("connect timed out after ", absl::FormatDuration(options_.timeout)));
      default:
        return Fail(ProbeFailure::kConnectError,
                    absl::StrCat("connect failed: ", status.message()));
    }
  }

  // Sends `request_head` (+ common headers) and reads the reply head into
  // *reply. False (with result_ filled) unless the status is 200.
  bool Exchange(const common::Socket& socket, const std::string& request_head,
                absl::string_view method, RtspResponse* reply) {
    const std::string request =
        absl::StrCat(request_head, "User-Agent: ", options_.user_agent, "\r\n\r\n");
    absl::Status sent = common::SendAll(socket, request, deadline_);
    if (!sent.ok()) {
      ReadFailure(sent, method, "");
      return false;
    }
    buffer_.clear();
    absl::StatusOr<size_t> end =
        common::ReadUntil(socket, &buffer_, "\r\n\r\n", kMaxHeaderBytes, deadline_);
    if (!end.ok()) {
      ReadFailure(end.status(), method, buffer_);
      return false;
    }
    absl::StatusOr<RtspResponse> parsed =
        ParseRtspResponseHead(absl::string_view(buffer_).substr(0, *end));
    result_.status_line = FirstLine(buffer_);
    buffer_.erase(0, *end);
    if (!parsed.ok() || !IsRtsp10Ok(parsed->status_line)) {
      Fail(ProbeFailure::kBadReply,
           absl::StrCat(method, ": bad reply \"", result_.status_line, "\""));
      return false;
    }
    *reply = *std::move(parsed);
    return true;
  }

  void ReadFailure(const absl::Status& status, absl::string_view method,
                   absl::string_view partial) {
    if (partial.find('\n') != absl::string_view::npos && !IsRtsp10Ok(FirstLine(partial))) {
      // A complete status line that is wrong is a bad reply, whatever
      // happened to the rest of it.
      result_.status_line = FirstLine(partial);
      Fail(ProbeFailure::kBadReply,
           absl::StrCat(method, ": bad reply \"", result_.status_line, "\""));
      return;
    }
    switch (status.code()) {
      case absl::StatusCode::kDeadlineExceeded:
        Fail(ProbeFailure::kRtspTimeout,
             absl::StrCat("connected, but no RTSP reply to ", method, " within ",
                          absl::FormatDuration(options_.timeout)));
        return;
      case absl::StatusCode::kAborted:
        Fail(ProbeFailure::kClosed,
             absl::StrCat("connection closed before the ", method, " reply"));
        return;
      case absl::StatusCode::kInvalidArgument:
        Fail(ProbeFailure::kBadReply, absl::StrCat(method, ": ", status.message()));
        return;
      default:
        Fail(ProbeFailure::kClosed, absl::StrCat(method, ": ", status.message()));
        return;
    }
  }

  bool Describe(const common::Socket& socket, const std::string& url) {
    RtspResponse reply;
    if (!Exchange(socket,
                  absl::StrCat("DESCRIBE ", url, " RTSP/1.0\r\nCSeq: 2\r\n",
                               "Accept: application/sdp\r\n"),
                  "DESCRIBE", &reply)) {
      return false;
    }
    const size_t length = reply.ContentLength();
    if (length == 0 || length > kMaxSdpBytes) {
      Fail(ProbeFailure::kBadSdp,
           absl::StrCat("DESCRIBE ", url, ": reply has Content-Length ", length));
      return false;
    }
    absl::Status body = common::ReadAtLeast(socket, &buffer_, length, deadline_);
    if (!body.ok()) {
      ReadFailure(body, "DESCRIBE", "");
      return false;
    }
    if (buffer_.compare(0, 3, "v=0") != 0 &&
        buffer_.substr(0, length).find("\nv=0") == std::string::npos) {
      Fail(ProbeFailure::kBadSdp, absl::StrCat("DESCRIBE ", url, ": body is not an SDP"));
      return false;
    }
    return true;
  }

  const ProbeOptions& options_;
  const ProbeTarget& target_;
  const common::Clock::time_point start_;
  const common::Clock::time_point deadline_;
  std::string buffer_;
  ProbeResult result_;
};

}  // namespace

absl::string_view ProbeFailureName(ProbeFailure failure) {
  switch (failure) {
    case ProbeFailure::kNone:
      return "none";
    case ProbeFailure::kResolveError:
      return "resolve_error";
    case ProbeFailure::kRefused:
      return "refused";
    case ProbeFailure::kConnectTimeout:
      return "connect_timeout";
    case ProbeFailure::kConnectError:
      return "connect_error";
    case ProbeFailure::kRtspTimeout:
      return "rtsp_timeout";
    case ProbeFailure::kClosed:
      return "closed";
    case ProbeFailure::kBadReply:
      return "bad_reply";
    case ProbeFailure::kBadSdp:
      return "bad_sdp";
    case ProbeFailure::kNotBound:
      return "not_bound";
  }
  return "unknown";
}

ProbeResult RtspProber::Probe(const ProbeTarget& target) const {
  return ProbeRun(options_, target).Run();
}

std::vector<ProbeResult> RtspProber::ProbeAll(const std::vector<ProbeTarget>& targets,
                                              int max_threads) const {
  std::vector<ProbeResult> results(targets.size());
  if (targets.empty()) return results;
  // A probe spends its time waiting on one socket, so threads (not cores)
  // bound the parallelism; workers take the next target until none is left.
  const size_t workers = std::min(targets.size(), static_cast<size_t>(std::max(1, max_threads)));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < targets.size(); i = next++) results[i] = Probe(targets[i]);
  };
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (size_t i = 1; i < workers; ++i) threads.emplace_back(work);
  work();  // The calling thread is one of the workers.
  for (std::thread& t : threads) t.join();
  return results;
}

}  // namespace rtsptest::common
