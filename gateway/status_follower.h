// StatusFollower: keeps a ControlPlaneView of one rtsp_test_server current,
// over gRPC, off the HTTP request path.
//
// Two threads share one channel:
//   - the watcher holds a grpc.health.v1 Watch("") stream. A status change
//     arrives within milliseconds, and so does a broken stream (a killed
//     server's socket closes, so Read() fails at once). After a failure it
//     opens a new channel and retries with exponential backoff
//     (min_backoff .. max_backoff).
//   - the reporter holds a ControlService.WatchHealthReport stream: the
//     server sends the report after each probe round and status change, and
//     at least every report_interval (its heartbeat). Nothing is polled.
//     A report older than report_interval + rpc_timeout marks the control
//     plane unreachable when the view is read: it covers what a stream
//     cannot see, e.g. a server that is stopped (SIGSTOP) or a network that
//     drops packets without a reset.
// So HTTP handlers read a status that is current and details at most one
// probe round old. A killed server (its sockets reset) shows as unreachable
// within milliseconds; a hung one within report_interval + rpc_timeout (1 s
// with the defaults 500 ms + 500 ms).
#ifndef RTSPTEST_GATEWAY_STATUS_FOLLOWER_H_
#define RTSPTEST_GATEWAY_STATUS_FOLLOWER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/control_plane_view.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "rtsptest/control/v1/control.grpc.pb.h"

namespace rtsptest::gateway {

struct StatusFollowerOptions {
  // host:port of the server's gRPC port.
  std::string grpc_addr = "127.0.0.1:50051";
  // How to reach it; null: plaintext. TLS (and a client certificate for
  // mTLS) when the gRPC port speaks TLS.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // With TLS credentials: the name the server's certificate must carry
  // instead of grpc_addr's host (empty: that host).
  std::string tls_server_name;
  absl::Duration report_interval = absl::Milliseconds(500);
  absl::Duration rpc_timeout = absl::Milliseconds(500);
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(1);
};

class StatusFollower {
 public:
  explicit StatusFollower(StatusFollowerOptions options);
  ~StatusFollower();  // Stop()s.

  StatusFollower(const StatusFollower&) = delete;
  StatusFollower& operator=(const StatusFollower&) = delete;

  // Starts both threads. The view is "unreachable" until they succeed.
  void Start();
  // Cancels the Watch and joins the threads. Idempotent.
  void Stop();

  // The current view; cheap (a shared_ptr copy under a mutex, or a new
  // "unreachable" view once the last report is overdue), never blocks on
  // gRPC.
  std::shared_ptr<const ControlPlaneView> view() const;

 private:
  void WatchLoop();
  void ReportLoop();
  // Rebuilds and publishes the view from the fields below.
  void PublishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sleeps up to `duration`; false when stopping.
  bool SleepUnlessStopping(absl::Duration duration);

  // One gRPC channel and its stubs. The watcher replaces it after each
  // failure instead of relying on gRPC's reconnect: a fresh channel (with its
  // own subchannel pool) connects on the first RPC, so our backoff is the
  // only one, and a restarted server is found within max_backoff.
  struct Connection {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<grpc::health::v1::Health::Stub> health;
    std::unique_ptr<control::v1::ControlService::Stub> control;
  };
  std::shared_ptr<Connection> Connect() const;
  std::shared_ptr<Connection> connection() const;

  const StatusFollowerOptions options_;
  std::thread watcher_;
  std::thread reporter_;

  mutable absl::Mutex mu_;
  std::shared_ptr<Connection> connection_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The streams in flight, so that Stop() can cancel them.
  grpc::ClientContext* watch_context_ ABSL_GUARDED_BY(mu_) = nullptr;
  grpc::ClientContext* report_context_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool watch_up_ ABSL_GUARDED_BY(mu_) = false;
  std::string watch_error_ ABSL_GUARDED_BY(mu_) = "not connected yet";
  WatchedStatus overall_ ABSL_GUARDED_BY(mu_) = WatchedStatus::kUnknown;
  bool report_ok_ ABSL_GUARDED_BY(mu_) = false;
  std::string report_error_ ABSL_GUARDED_BY(mu_) = "not connected yet";
  std::optional<control::v1::HealthReport> report_ ABSL_GUARDED_BY(mu_);
  absl::Time report_time_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::shared_ptr<const ControlPlaneView> view_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rtsptest::gateway

#endif  // RTSPTEST_GATEWAY_STATUS_FOLLOWER_H_
