// HttpServer: libmicrohttpd options, the request trampoline and the
// sweeper (header and request timeouts, shedding at the connection limit).
#include "gateway/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log/log.h"

namespace rtsptest::gateway {

struct HttpServer::RequestState {
  absl::Time started;
  uint64_t body_bytes = 0;
  bool responded = false;
};

namespace {

// The last message MHD logged while starting, so that a failed start can say
// why (MHD_start_daemon itself only returns NULL).
thread_local std::string* start_error = nullptr;

void MhdLogger(void* cls, const char* format, va_list args) {
  char buffer[512];
  vsnprintf(buffer, sizeof(buffer), format, args);
  std::string message(buffer);
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
  if (start_error != nullptr) *start_error = message;
  // Malformed or oversized requests are routine on a public port: debug only.
  common::Log(common::LogLevel::kDebug, "libmicrohttpd", {{"detail", message}});
}

MHD_Result CollectArgument(void* cls, MHD_ValueKind kind, const char* key, const char* value) {
  auto* query = static_cast<std::map<std::string, std::string>*>(cls);
  if (key != nullptr) (*query)[key] = value != nullptr ? value : "";
  return MHD_YES;
}

std::string ClientAddress(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info == nullptr || info->client_addr == nullptr) return "";
  char text[INET6_ADDRSTRLEN] = {0};
  const sockaddr* addr = info->client_addr;
  if (addr->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, text, sizeof(text));
  } else if (addr->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, text,
              sizeof(text));
  }
  return text;
}

}  // namespace

// C callbacks with MHD's exact signatures; `cls` is the HttpServer.
struct HttpServerCallbacks {
  static MHD_Result Access(void* cls, MHD_Connection* connection, const char* url,
                           const char* method, const char* version, const char* upload_data,
                           size_t* upload_data_size, void** con_cls) {
    return static_cast<HttpServer*>(cls)->OnRequest(connection, url, method, upload_data,
                                                    upload_data_size, con_cls)
               ? MHD_YES
               : MHD_NO;
  }
  static void Connection(void* cls, MHD_Connection* connection, void** socket_context,
                         MHD_ConnectionNotificationCode code) {
    auto* server = static_cast<HttpServer*>(cls);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      server->OnConnectionStarted(connection);
    } else {
      server->OnConnectionClosed(connection);
    }
  }
  static void Completed(void* cls, MHD_Connection* connection, void** con_cls,
                        MHD_RequestTerminationCode code) {
    static_cast<HttpServer*>(cls)->OnRequestCompleted(connection, con_cls);
  }
};

HttpServer::HttpServer(const HttpServerOptions& options, Handler handler)
    : options_(options), handler_(std::move(handler)) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              Handler handler) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("http port ", options.port, ": must be 0..65535"));
  }
  if (options.threads < 1 || options.max_connections < 1 || options.max_connections_per_ip < 0) {
    return absl::InvalidArgumentError("http server: threads and max_connections must be >= 1");
  }
  if (options.idle_timeout < absl::Seconds(1) || options.header_timeout <= absl::ZeroDuration() ||
      options.request_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "http server: idle timeout must be >= 1s, header and request timeouts > 0");
  }
  if (options.max_header_bytes < 1024) {
    return absl::InvalidArgumentError("http server: max_header_bytes must be >= 1024");
  }
  sockaddr_storage address{};
  bool ipv6 = false;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (inet_pton(AF_INET, options.bind_address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(options.port));
  } else if (inet_pton(AF_INET6, options.bind_address.c_str(), &v6->sin6_addr) == 1) {
    ipv6 = true;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(options.port));
  } else {
    return absl::InvalidArgumentError(absl::StrCat("http bind address '", options.bind_address,
                                                   "': not an IPv4 or IPv6 literal"));
  }

  std::unique_ptr<HttpServer> server(new HttpServer(options, std::move(handler)));
  std::vector<MHD_OptionItem> items = {
      {MHD_OPTION_SOCK_ADDR, 0, &address},
      {MHD_OPTION_CONNECTION_LIMIT, options.max_connections, nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT,
       static_cast<intptr_t>(absl::ToInt64Seconds(options.idle_timeout)), nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(options.max_header_bytes),
       nullptr},
      {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&HttpServerCallbacks::Connection),
       server.get()},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&HttpServerCallbacks::Completed),
       server.get()},
      {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&MhdLogger), nullptr},
  };
  if (options.threads > 1) {
    items.push_back({MHD_OPTION_THREAD_POOL_SIZE, options.threads, nullptr});
  }
  if (options.max_connections_per_ip > 0) {
    items.push_back({MHD_OPTION_PER_IP_CONNECTION_LIMIT, options.max_connections_per_ip, nullptr});
  }
  items.push_back({MHD_OPTION_END, 0, nullptr});

  // epoll with an internal thread (or a pool of them): MHD owns the loops,
  // and the handler only reads cached state. TURBO skips per-call checks
  // that matter only to applications sharing MHD's sockets.
  unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ERROR_LOG;
  if (ipv6) flags |= MHD_USE_IPv6;
  std::string error;
  start_error = &error;
  server->daemon_ = MHD_start_daemon(flags, static_cast<uint16_t>(options.port), nullptr, nullptr,
                                     &HttpServerCallbacks::Access, server.get(), MHD_OPTION_ARRAY,
                                     items.data(), MHD_OPTION_END);
  start_error = nullptr;
  if (server->daemon_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("http server on ", options.bind_address, ":",
                                               options.port, ": cannot start",
                                               error.empty() ? "" : ": ", error));
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(server->daemon_, MHD_DAEMON_INFO_BIND_PORT);
  server->port_ = info != nullptr ? info->port : options.port;
  info = MHD_get_daemon_info(server->daemon_, MHD_DAEMON_INFO_LISTEN_FD);
  server->listen_fd_ = info != nullptr ? info->listen_fd : -1;
  server->sweeper_ = std::thread([raw = server.get()] { raw->SweepLoop(); });
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (sweeper_.joinable()) {
    stop_sweeper_.Notify();
    sweeper_.join();
  }
  if (daemon_ != nullptr) {
    MHD_stop_daemon(daemon_);
    daemon_ = nullptr;
  }
}

void HttpServer::OnConnectionStarted(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  absl::MutexLock lock(&mu_);
  ConnectionState& state = connections_[connection];
  state.fd = info != nullptr ? info->connect_fd : -1;
  state.waiting_since = absl::Now();
}

void HttpServer::OnConnectionClosed(MHD_Connection* connection) {
  // MHD calls this before it closes the socket, so while an entry is in the
  // map (under mu_) its fd is still this connection's: the sweeper can never
  // shut down a reused descriptor.
  absl::MutexLock lock(&mu_);
  connections_.erase(connection);
}

void HttpServer::OnRequestCompleted(MHD_Connection* connection, void** con_cls) {
  delete static_cast<RequestState*>(*con_cls);
  *con_cls = nullptr;
  absl::MutexLock lock(&mu_);
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  // Keep-alive: the clock for the next request starts now.
  it->second.phase = Phase::kHeaders;
  it->second.waiting_since = absl::Now();
}

void HttpServer::SetPhase(MHD_Connection* connection, Phase phase) {
  absl::MutexLock lock(&mu_);
  auto it = connections_.find(connection);
  if (it != connections_.end()) it->second.phase = phase;
}

int HttpServer::AcceptBacklog() const {
  // On a listening socket Linux reports the accept queue's length in
  // tcpi_unacked (and its capacity in tcpi_sacked).
  if (listen_fd_ < 0) return -1;
  tcp_info info{};
  socklen_t size = sizeof(info);
  if (getsockopt(listen_fd_, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) return -1;
  return static_cast<int>(info.tcpi_unacked);
}

void HttpServer::SweepLoop() {
  // Short, so that a client waiting behind a full server is let in quickly;
  // a sweep of max_connections entries costs microseconds.
  const absl::Duration period = std::min(
      {absl::Milliseconds(100), options_.header_timeout / 4, options_.request_timeout / 4});
  while (!stop_sweeper_.WaitForNotificationWithTimeout(period)) {
    int backlog = AcceptBacklog();
    int late_headers = 0, late_requests = 0, shed = 0;
    {
      absl::MutexLock lock(&mu_);
      Sweep(backlog, &late_headers, &late_requests, &shed);
    }
    if (late_headers + late_requests > 0) {
      common::Log(common::LogLevel::kDebug, "http: closed connections whose request was late",
                  {{"late_headers", late_headers},
                   {"late_requests", late_requests},
                   {"header_timeout", absl::FormatDuration(options_.header_timeout)},
                   {"request_timeout", absl::FormatDuration(options_.request_timeout)}});
    }
    if (shed > 0) {
      common::Log(common::LogLevel::kDebug,
                  "http: at the connection limit, closed the oldest unfinished requests",
                  {{"connections", shed},
                   {"waiting", backlog},
                   {"max_connections", options_.max_connections}});
    }
  }
}

void HttpServer::Sweep(int backlog, int* late_headers, int* late_requests, int* shed) {
  const absl::Time now = absl::Now();
  // shutdown, not close: MHD sees end-of-stream on its next read and closes
  // the connection itself, on its own thread.
  auto cut = [](ConnectionState& state) {
    shutdown(state.fd, SHUT_RDWR);
    state.cut = true;
  };
  int pending_close = 0;
  std::vector<ConnectionState*> unfinished;
  for (auto& [connection, state] : connections_) {
    if (state.cut) {
      ++pending_close;
      continue;
    }
    if (state.fd < 0 || state.phase == Phase::kResponding) continue;
    const absl::Duration waited = now - state.waiting_since;
    if (waited >= options_.request_timeout) {
      cut(state);
      ++(state.phase == Phase::kHeaders ? *late_headers : *late_requests);
    } else if (state.phase == Phase::kHeaders && waited >= options_.header_timeout) {
      cut(state);
      ++*late_headers;
    } else {
      unfinished.push_back(&state);
    }
  }
  // MHD counts a connection until it has closed it, so a full server is one
  // whose table (cut connections included) reaches the limit. Each connection
  // cut and not yet closed already frees a slot for one waiting client.
  const int open = static_cast<int>(connections_.size());
  if (open < options_.max_connections) return;
  const int waiting = backlog < 0 ? 1 : backlog;
  const int to_shed = std::min(waiting - pending_close - *late_headers - *late_requests,
                               static_cast<int>(unfinished.size()));
  if (to_shed <= 0) return;
  std::partial_sort(unfinished.begin(), unfinished.begin() + to_shed, unfinished.end(),
                    [](const ConnectionState* a, const ConnectionState* b) {
                      return a->waiting_since < b->waiting_since;
                    });
  for (int i = 0; i < to_shed; ++i) cut(*unfinished[i]);
  *shed = to_shed;
}

bool HttpServer::OnRequest(MHD_Connection* connection, const char* url, const char* method,
                           const char* upload_data, size_t* upload_data_size, void** con_cls) {
  auto* state = static_cast<RequestState*>(*con_cls);
  HttpRequest request;
  request.method = method != nullptr ? method : "";
  request.path = url != nullptr ? url : "";
  if (state == nullptr) {
    // First call: the headers are complete.
    state = new RequestState;
    state->started = absl::Now();
    *con_cls = state;
    SetPhase(connection, Phase::kBody);
    const char* length =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char* encoding =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    uint64_t declared = 0;
    const bool has_length = length != nullptr && absl::SimpleAtoi(length, &declared);
    if ((request.method == "GET" || request.method == "HEAD") &&
        (encoding != nullptr || (has_length && declared > 0))) {
      // Refuse before reading a byte of it: a body trickled slowly would
      // otherwise hold the connection until the request timeout.
      state->responded = true;
      HttpResponse refused{
          400, "text/plain; charset=utf-8", "GET and HEAD requests carry no body\n", {}};
      return Respond(connection, request, refused, state->started, /*close=*/true);
    }
    if (has_length && declared > options_.max_body_bytes) {
      state->responded = true;
      HttpResponse too_large{413, "text/plain; charset=utf-8", "request body too large\n", {}};
      return Respond(connection, request, too_large, state->started, /*close=*/true);
    }
    // Wait for the body (if any) and the final call.
    return true;
  }
  if (*upload_data_size > 0) {
    // No handler reads a body: count it and drop it.
    state->body_bytes += *upload_data_size;
    *upload_data_size = 0;
    if (state->body_bytes > options_.max_body_bytes && !state->responded) {
      state->responded = true;
      HttpResponse too_large{413, "text/plain; charset=utf-8", "request body too large\n", {}};
      return Respond(connection, request, too_large, state->started, /*close=*/true);
    }
    return true;
  }
  if (state->responded) return true;
  state->responded = true;
  MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, &CollectArgument, &request.query);
  const char* host = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
  request.host = host != nullptr ? host : "";
  if (options_.access_log) request.remote = ClientAddress(connection);
  return Respond(connection, request, handler_(request), state->started);
}

bool HttpServer::Respond(MHD_Connection* connection, const HttpRequest& request,
                         const HttpResponse& response, absl::Time started, bool close) {
  SetPhase(connection, Phase::kResponding);
  MHD_Response* reply = MHD_create_response_from_buffer(
      response.body.size(), const_cast<char*>(response.body.data()), MHD_RESPMEM_MUST_COPY);
  if (reply == nullptr) return false;
  MHD_add_response_header(reply, MHD_HTTP_HEADER_CONTENT_TYPE, response.content_type.c_str());
  for (const auto& [name, value] : response.headers) {
    MHD_add_response_header(reply, name.c_str(), value.c_str());
  }
  if (close) MHD_add_response_header(reply, MHD_HTTP_HEADER_CONNECTION, "close");
  MHD_Result queued =
      MHD_queue_response(connection, static_cast<unsigned int>(response.status), reply);
  MHD_destroy_response(reply);
  if (options_.access_log) {
    std::string remote = request.remote.empty() ? ClientAddress(connection) : request.remote;
    common::Log(common::LogLevel::kInfo, "http request",
                {{"method", request.method},
                 {"path", request.path},
                 {"status", response.status},
                 {"bytes", static_cast<int64_t>(response.body.size())},
                 {"remote", remote},
                 {"duration_ms", absl::ToDoubleMilliseconds(absl::Now() - started)}});
  }
  return queued == MHD_YES;
}

}  // namespace rtsptest::gateway
