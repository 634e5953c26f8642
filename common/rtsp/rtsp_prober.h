// RtspProber: is an RTSP listener alive? A TCP connect, then an RTSP
// OPTIONS round trip that must return "RTSP/1.0 200".
//
// A kernel accept alone proves only that the socket is listening; the
// OPTIONS reply proves that the server's RTSP loop is running. The optional
// deep check also DESCRIBEs one mount and expects an SDP ("v=0"), which
// proves that a media pipeline can be prepared (and costs one: see
// ProbeOptions::deep_check).
//
// Probes are blocking and bounded by ProbeOptions::timeout; ProbeAll runs
// many of them on a bounded set of threads.
#ifndef RTSPTEST_COMMON_RTSP_RTSP_PROBER_H_
#define RTSPTEST_COMMON_RTSP_RTSP_PROBER_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rtsptest::common {

// Why a probe failed. kNone when it passed.
enum class ProbeFailure {
  kNone = 0,
  kResolveError,    // The host name did not resolve.
  kRefused,         // Nothing listens on the port.
  kConnectTimeout,  // No TCP handshake before the timeout.
  kConnectError,    // Another connect error (unreachable, ...).
  kRtspTimeout,     // Accepted, but no full RTSP reply in time: a stalled loop.
  kClosed,          // The peer closed or reset before replying.
  kBadReply,        // A reply that is not "RTSP/1.0 200" (see status_line).
  kBadSdp,          // Deep check: DESCRIBE answered 200 without "v=0".
  kNotBound,        // Set by HealthMonitor, never by the prober: the server
                    // could not bind this listener, so it was not probed.
};

// "refused", "connect_timeout", ...: stable names for logs and JSON.
absl::string_view ProbeFailureName(ProbeFailure failure);

struct ProbeOptions {
  // Bounds the whole probe: connect, OPTIONS and (deep) DESCRIBE together,
  // so that a monitor round never takes longer than this.
  absl::Duration timeout = absl::Seconds(2);
  // Also DESCRIBE rtsp://host:port/<describe_path> and require an SDP. On
  // rtsp_test_server this reuses the stream's running media (about 0.4 ms of
  // server CPU, docs/benchmarks.md); on a stock gst-rtsp-server it may
  // prepare a pipeline per probe.
  bool deep_check = false;
  std::string user_agent = "rtsp-test-server-health/1";
};

struct ProbeTarget {
  std::string host;  // IPv4/IPv6 literal or name.
  int port = 0;
  // Mount for the deep check, without the leading '/' (e.g. "cam1").
  std::string describe_path;
};

struct ProbeResult {
  bool ok = false;
  ProbeFailure failure = ProbeFailure::kNone;
  // Short cause for machines and JSON: "connection refused".
  std::string error;
  // Human reason with the port: "port 8555: connection refused".
  std::string reason;
  // The reply's status line when one arrived (e.g. "HTTP/1.1 400 Bad Request").
  std::string status_line;
  // From the start of the connect to the last reply byte (or the failure).
  absl::Duration latency;
};

class RtspProber {
 public:
  explicit RtspProber(ProbeOptions options = {}) : options_(std::move(options)) {}

  const ProbeOptions& options() const { return options_; }

  // Probes one listener. Blocks for at most options().timeout (plus the
  // name resolution of a non-literal host).
  ProbeResult Probe(const ProbeTarget& target) const;

  // Probes all targets concurrently on at most `max_threads` threads; the
  // results are in the order of `targets`. Takes about one timeout when
  // targets.size() <= max_threads.
  std::vector<ProbeResult> ProbeAll(const std::vector<ProbeTarget>& targets,
                                    int max_threads = 32) const;

 private:
  ProbeOptions options_;
};

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_RTSP_RTSP_PROBER_H_
