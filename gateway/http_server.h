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
//     in the kernel's backlog until a slot frees (the header timeout frees
//     slots held by slow clients).
//   - idle_timeout: MHD closes a connection that sends nothing for this long.
//   - header_timeout: ours. A request's headers must be complete within this
//     long after the connection starts waiting for it (accept, or the end of
//     the previous response on a keep-alive connection). MHD 0.9.75 has only
//     the idle timeout, which a client sending one byte every few seconds
//     (slowloris) never trips, so a sweeper thread shuts such sockets down.
//   - max_header_bytes: MHD's per-connection memory pool. A request whose
//     headers do not fit gets MHD's own 431 (or 414 for a huge request line).
//   - max_body_bytes: GET and HEAD have no body; a larger Content-Length gets
//     413 and the connection is closed.
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
  // Per-connection bookkeeping for the header timeout.
  struct ConnectionState {
    int fd = -1;
    bool in_request = false;  // Headers complete; a response is on its way.
    bool cut = false;         // Already shut down by the sweeper.
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
  bool Respond(MHD_Connection* connection, const HttpRequest& request, const HttpResponse& response,
               absl::Time started);
  void SweepLoop();

  const HttpServerOptions options_;
  const Handler handler_;
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;

  absl::Mutex mu_;
  std::map<MHD_Connection*, ConnectionState> connections_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_sweeper_;
  std::thread sweeper_;
};

}  // namespace rtsptest::gateway

#endif  // RTSPTEST_GATEWAY_HTTP_SERVER_H_
