// HttpServer: a small HTTP/1.1 server for the health gateway's read-only
// endpoints: epoll event loops, HttpConnection (http_connection.h) for the
// protocol, and one Handler.
//
// Its own rather than libmicrohttpd, which Debian builds with HTTPS: loading
// it maps and initialises GnuTLS and the libraries under it (2.6 MiB of
// resident memory, docs/benchmarks.md "Idle RSS") for a plain-HTTP port,
// and its version in Debian 12 has none of the header and request timeouts
// below.
//
// Handlers must be fast and must not block: they run on the event-loop
// threads, so one slow handler would stall every connection of its thread.
//
// Protection against slow or hostile clients:
//   - max_connections: beyond it the server stops accepting; new
//     connections wait in the kernel's backlog. While connections wait there
//     and every slot is taken, the sweeper sheds the connections whose
//     request has been unfinished the longest (slow headers, slow bodies,
//     idle keep-alive), one per waiting connection, so that a quick client
//     (a health check) is accepted within a sweep (100 ms) however many slow
//     clients hold slots.
//   - max_connections_per_ip: a client address's further connections are
//     closed as soon as they are accepted.
//   - header_timeout: a request's headers must be complete within this long
//     after the connection starts waiting for it (accept, or the end of the
//     previous response on a keep-alive connection), however steadily a
//     client trickles them (slowloris). It also ends idle keep-alive.
//   - request_timeout: the same for the whole request, headers and body.
//     Without it a body trickled a byte at a time holds its slot for ever.
//   - idle_timeout: a response the client does not read within this long is
//     dropped with its connection.
//   - Sizes (HttpConnection): a head over max_header_bytes gets 431 (414 for
//     a huge request line); a GET or HEAD with a body gets 400 at once; a
//     body over max_body_bytes gets 413. Each of these closes the
//     connection: the server sends its answer, shuts its side, and drops
//     what else the client sends for at most two seconds (so that the client
//     reads the answer rather than a reset).
#ifndef RTSPTEST_GATEWAY_HTTP_SERVER_H_
#define RTSPTEST_GATEWAY_HTTP_SERVER_H_

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gateway/http_connection.h"
#include "gateway/http_wire.h"

namespace rtsptest::gateway {

struct HttpServerOptions {
  // An IPv4 or IPv6 literal.
  std::string bind_address = "0.0.0.0";
  // 0: any free port (see HttpServer::port()).
  int port = 8080;
  // Event-loop threads, each with its own epoll.
  int threads = 2;
  int max_connections = 1024;
  // 0: no per-client-address limit.
  int max_connections_per_ip = 0;
  absl::Duration idle_timeout = absl::Seconds(15);
  absl::Duration header_timeout = absl::Seconds(10);
  // Headers and body; counts from the same moment as header_timeout.
  absl::Duration request_timeout = absl::Seconds(10);
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024;
  // One JSON log line per request.
  bool access_log = false;
};

class HttpServer {
 public:
  using Handler = HttpHandler;

  // Binds and starts serving. InvalidArgument for a bad bind address or
  // option, Unavailable when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                           Handler handler);
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port.
  int port() const { return port_; }
  // Closes the listening socket and every connection. Idempotent.
  void Stop();

 private:
  using Phase = HttpConnection::Phase;
  // What the sweeper knows of a connection, by descriptor.
  struct ConnectionState {
    Phase phase = Phase::kHeaders;
    bool cut = false;  // Already shut down by the sweeper.
    // kHeaders, kBody: when the connection started waiting for its current
    // request. kResponding, kClosing: when it entered the phase.
    absl::Time since;
    std::string address;  // For max_connections_per_ip.
  };
  struct Client;  // A connection as its event loop holds it.
  struct Loop;    // An event-loop thread and its epoll.

  HttpServer(const HttpServerOptions& options, Handler handler);

  void RunLoop(Loop* loop);
  // Accepts a waiting connection while there is a slot.
  void Accept(Loop* loop);
  // Registers the listening socket in `loop` while slots are free.
  void UpdateAccepting(Loop* loop);
  // Reads, runs the protocol and writes for one ready connection. False
  // when it is finished and must be closed.
  bool Serve(Loop* loop, int fd, Client& client);
  // Sends what the connection has to send; false on a socket error.
  bool Flush(int fd, Client& client);
  // Claims a slot for a new connection from `address`; false at
  // max_connections_per_ip.
  bool Admit(int fd, const std::string& address);
  // Frees the slot and closes the socket.
  void Close(int fd);
  // Tells the sweeper about a new phase; `restart` starts the clock again
  // (a response completed, a new request begins).
  void Report(int fd, Phase phase, bool restart);

  void SweepLoop();
  // One sweep: cuts late requests and unread responses, and sheds the
  // oldest unfinished requests while every slot is taken and `backlog`
  // connections wait to be accepted. Counts what it cut, for the log.
  void Sweep(int backlog, int* late_headers, int* late_requests, int* shed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Connections waiting in the kernel's accept queue (-1 when unknown).
  int AcceptBacklog() const;

  const HttpServerOptions options_;
  const Handler handler_;
  int port_ = 0;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // An eventfd every loop watches; written once by Stop().
  std::vector<std::unique_ptr<Loop>> loops_;

  absl::Mutex mu_;
  std::map<int, ConnectionState> connections_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> per_address_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> open_{0};  // connections_.size(), readable without mu_.
  absl::Notification stop_sweeper_;
  std::thread sweeper_;
};

}  // namespace rtsptest::gateway

#endif  // RTSPTEST_GATEWAY_HTTP_SERVER_H_
