// ConnectionAcceptor: takes a listener's new connections off its listening
// socket, in place of gst_rtsp_server_io_func, and bounds what they cost.
//
// - At most `max_connections` open at once: one more is answered
//   "RTSP/1.0 503 Service Unavailable" and closed, so that a crowd of idle
//   connections cannot use up the process's descriptors (which the gRPC and
//   HTTP ports, the plugins and the health probes need too).
// - When accept() fails for want of descriptors or memory (EMFILE, ENFILE,
//   ENOBUFS, ENOMEM) the socket stays readable: AcceptPending() then says
//   to back off, so that the caller stops watching it for a while (100 ms,
//   doubling up to 1 s) instead of spinning.
// - Every accepted socket reads through the request guard (request_guard.h).
// - Repeated failures are logged once a second with their count.
#ifndef RTSPTEST_CORE_LISTENER_CONNECTION_ACCEPTOR_H_
#define RTSPTEST_CORE_LISTENER_CONNECTION_ACCEPTOR_H_

#include <gio/gio.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/log/rate_limited_log.h"
#include "core/listener/request_guard.h"

namespace rtsptest::core {

class ConnectionAcceptor {
 public:
  // `server` is not owned and must outlive this. `open_connections` says
  // how many of this listener's connections are open now.
  ConnectionAcceptor(std::string listener, GstRTSPServer* server,
                     std::function<int()> open_connections);

  // Takes effect for connections accepted from then on. <= 0: no limit.
  void set_max_connections(int max) { max_connections_.store(max); }
  int max_connections() const { return max_connections_.load(); }

  // Accepts what waits on `socket`, up to a batch, and hands each
  // connection to the server. Returns zero when done, or how long to stop
  // watching the socket when the process is out of descriptors.
  absl::Duration AcceptPending(GSocket* socket);

  // Logs what the rate-limited logs counted since their last line. Call
  // about once a second.
  void FlushLogs(absl::Time now);

  // Connections answered 503 for the limit; requests cut off by the guard;
  // accept() failures.
  int64_t refused_over_limit() const { return refused_over_limit_.load(); }
  int64_t requests_over_limits() const { return stats_->requests_over_limits.load(); }
  int64_t accept_failures() const { return accept_failures_.load(); }

 private:
  // Shared with the guard of every connection, which may outlive this.
  struct GuardStats {
    GuardStats();
    std::atomic<int64_t> requests_over_limits{0};
    common::RateLimitedLog log;
  };

  void RefuseOverLimit(GSocket* connection);

  const std::string listener_;
  GstRTSPServer* const server_;
  const std::function<int()> open_connections_;
  std::atomic<int> max_connections_{0};
  const std::shared_ptr<GuardStats> stats_;
  std::shared_ptr<const RequestGuard> guard_;
  absl::Duration back_off_ = absl::ZeroDuration();
  std::atomic<int64_t> refused_over_limit_{0};
  std::atomic<int64_t> accept_failures_{0};
  common::RateLimitedLog over_limit_log_;
  common::RateLimitedLog accept_failure_log_;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_LISTENER_CONNECTION_ACCEPTOR_H_
