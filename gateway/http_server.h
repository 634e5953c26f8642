// HttpServer: a small HTTP/1.1 server on libmicrohttpd (MHD), for the health
// gateway's read-only endpoints.
//
// MHD parses HTTP; this class only picks its options and turns a request
// into a call of one Handler. Handlers must be fast and must not block: they
// run on MHD's event-loop threads (epoll, one loop per pool thread), so one
// slow handler would stall every connection of that thread.
//
// Protection against slow or hostile clients:
//   - max_connections: beyond it MHD stops accepting; new connections wait
//     in the kernel's backlog. While connections wait there and every slot is
//     taken, the sweeper sheds the connections whose request has been
//     unfinished the longest (slow headers, slow bodies, idle keep-alive), one
//     per waiting connection, so that a quick client (a health check) is
//     accepted within a sweep (100 ms) however many slow clients hold slots.
//   - idle_timeout: MHD closes a connection that sends nothing for this long.
//   - header_timeout: ours. A request's headers must be complete within this
//     long after the connection starts waiting for it (accept, or the end of
//     the previous response on a keep-alive connection). MHD 0.9.75 has only
//     the idle timeout, which a client sending one byte every few seconds
//     (slowloris) never trips, so a sweeper thread shuts such sockets down.
//   - request_timeout: ours, the same for the whole request: headers and
//     body must be complete within this long after the connection starts
//     waiting for it. Without it a body trickled a byte at a time holds its
//     slot for ever.
//   - max_header_bytes: MHD's per-connection memory pool. A request whose
//     headers do not fit gets MHD's own 431 (or 414 for a huge request line).
//   - GET and HEAD have no body: one that declares one (Content-Length > 0 or
//     any Transfer-Encoding) gets 400 at once, and the connection is closed
//     without reading the body.
//   - max_body_bytes: other methods (which the handler refuses) may send a
//     body up to this size; a larger one gets 413 and the connection closes.
#ifndef RTSPTEST_GATEWAY_HTTP_SERVER_H_
#define RTSPTEST_GATEWAY_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace rtsptest::gateway {

struct HttpRequest {
  std::string method;  // "GET", "HEAD", ...
  std::string path;    // Without the query string.
  std::map<std::string, std::string> query;
  std::string host;    // The Host header, as sent ("" when absent).
  std::string remote;  // Client address, for the access log.
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpServerOptions {
  // An IPv4 or IPv6 literal.
  std::string bind_address = "0.0.0.0";
  // 0: any free port (see HttpServer::port()).
  int port = 8080;
  // Event-loop threads (MHD's thread pool, each with its own epoll).
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
  // Runs on MHD's threads once per request, after the headers (and a body
  // within max_body_bytes) arrived. Must not block.
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

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
  // Where a connection is in its current request.
  enum class Phase {
    kHeaders,     // Waiting for (the rest of) the request line and headers.
    kBody,        // Headers complete; waiting for the body.
    kResponding,  // A response is queued; MHD's idle timeout bounds the rest.
  };
  // Per-connection bookkeeping for the timeouts and shedding.
  struct ConnectionState {
    int fd = -1;
    Phase phase = Phase::kHeaders;
    bool cut = false;  // Already shut down by the sweeper.
    // When the connection started waiting for its current request.
    absl::Time waiting_since;
  };
  // Per-request state kept in MHD's con_cls between handler calls.
  struct RequestState;

  HttpServer(const HttpServerOptions& options, Handler handler);

  // MHD's C callbacks (in the .cc) forward to the members below.
  friend struct HttpServerCallbacks;
  bool OnRequest(MHD_Connection* connection, const char* url, const char* method,
                 const char* upload_data, size_t* upload_data_size, void** con_cls);
  void OnConnectionStarted(MHD_Connection* connection);
  void OnConnectionClosed(MHD_Connection* connection);
  void OnRequestCompleted(MHD_Connection* connection, void** con_cls);
  void SetPhase(MHD_Connection* connection, Phase phase);
  // Queues `response`; `close` adds "Connection: close" (MHD then closes
  // after sending it, without reading any unread body).
  bool Respond(MHD_Connection* connection, const HttpRequest& request, const HttpResponse& response,
               absl::Time started, bool close = false);
  void SweepLoop();
  // One sweep: cuts late requests, and sheds the oldest unfinished ones
  // while every slot is taken and `backlog` connections wait to be accepted.
  // Returns how many were cut for each reason.
  void Sweep(int backlog, int* late_headers, int* late_requests, int* shed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Connections waiting in the kernel's accept queue (-1 when unknown).
  int AcceptBacklog() const;

  const HttpServerOptions options_;
  const Handler handler_;
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
  int listen_fd_ = -1;

  absl::Mutex mu_;
  std::map<MHD_Connection*, ConnectionState> connections_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_sweeper_;
  std::thread sweeper_;
};

}  // namespace rtsptest::gateway

#endif  // RTSPTEST_GATEWAY_HTTP_SERVER_H_
