// HttpServer: the listening socket, the event loops, and the sweeper
// (timeouts, shedding at the connection limit).
#include "gateway/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"

namespace rtsptest::gateway {

namespace {

// How long a connection being closed (its answer sent, our side shut) may
// go on sending before it is dropped.
constexpr absl::Duration kLinger = absl::Seconds(2);
// How long an event loop stops accepting after running out of descriptors.
constexpr absl::Duration kAcceptPause = absl::Milliseconds(100);
// One read's size, and the reads one connection gets per wake-up (epoll is
// level-triggered: a client with more to send is served again on the next
// round, after the others).
constexpr size_t kReadBytes = 16 * 1024;
constexpr int kReadsPerWakeup = 4;
// Connections one loop accepts per wake-up. One: the listening socket is
// level-triggered, so the rest wake the loop again at once, or another loop
// that is idle, and a burst of connections (a load test, a health checker
// pool) spreads over the loops instead of landing on the first one awake.
constexpr int kAcceptsPerWakeup = 1;

std::string AddressText(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (address.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&address)->sin_addr, text,
              sizeof(text));
  } else if (address.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr, text,
              sizeof(text));
  }
  return text;
}

// Binds and listens on `address`; the descriptor, or why not.
absl::StatusOr<int> Listen(const sockaddr_storage& address, const HttpServerOptions& options) {
  const std::string where =
      absl::StrCat("http server on ", options.bind_address, ":", options.port);
  const int fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat(where, ": socket: ", strerror(errno)));
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  // An IPv6 address serves IPv6 only, as the gRPC port's bind does.
  if (address.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
  const socklen_t size = address.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), size) != 0 ||
      listen(fd, SOMAXCONN) != 0) {
    const int error = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat(where, ": cannot start: ", strerror(error)));
  }
  return fd;
}

}  // namespace

struct HttpServer::Client {
  std::unique_ptr<HttpConnection> http;
  uint32_t interest = EPOLLIN;
  bool shut = false;  // Our side shut down (kClosing).
  // What the sweeper was last told.
  Phase reported = Phase::kHeaders;
  uint64_t responses_reported = 0;
};

struct HttpServer::Loop {
  int epoll_fd = -1;
  bool accepting = false;
  absl::Time accept_paused_until;
  std::map<int, Client> clients;  // By descriptor; touched by this loop's thread only.
  std::thread thread;
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
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (inet_pton(AF_INET, options.bind_address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(options.port));
  } else if (inet_pton(AF_INET6, options.bind_address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(options.port));
  } else {
    return absl::InvalidArgumentError(absl::StrCat("http bind address '", options.bind_address,
                                                   "': not an IPv4 or IPv6 literal"));
  }

  std::unique_ptr<HttpServer> server(new HttpServer(options, std::move(handler)));
  absl::StatusOr<int> listen_fd = Listen(address, options);
  if (!listen_fd.ok()) return listen_fd.status();
  server->listen_fd_ = *listen_fd;
  sockaddr_storage bound{};
  socklen_t size = sizeof(bound);
  getsockname(server->listen_fd_, reinterpret_cast<sockaddr*>(&bound), &size);
  server->port_ =
      ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);

  server->stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (server->stop_fd_ < 0) {
    return absl::UnavailableError(absl::StrCat("http server: eventfd: ", strerror(errno)));
  }
  for (int i = 0; i < options.threads; ++i) {
    auto loop = std::make_unique<Loop>();
    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    epoll_event stop{};
    stop.events = EPOLLIN;
    stop.data.fd = server->stop_fd_;
    if (loop->epoll_fd < 0 ||
        epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, server->stop_fd_, &stop) != 0) {
      const int error = errno;
      if (loop->epoll_fd >= 0) close(loop->epoll_fd);
      return absl::UnavailableError(absl::StrCat("http server: epoll: ", strerror(error)));
    }
    server->loops_.push_back(std::move(loop));
  }
  for (auto& loop : server->loops_) {
    loop->thread = std::thread([raw = server.get(), loop = loop.get()] { raw->RunLoop(loop); });
  }
  server->sweeper_ = std::thread([raw = server.get()] { raw->SweepLoop(); });
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (sweeper_.joinable()) {
    stop_sweeper_.Notify();
    sweeper_.join();
  }
  if (stop_fd_ >= 0) {
    const uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof(one));
  }
  for (auto& loop : loops_) {
    if (loop->thread.joinable()) loop->thread.join();
    if (loop->epoll_fd >= 0) close(loop->epoll_fd);
  }
  loops_.clear();
  if (stop_fd_ >= 0) close(stop_fd_);
  if (listen_fd_ >= 0) close(listen_fd_);
  stop_fd_ = listen_fd_ = -1;
}

void HttpServer::RunLoop(Loop* loop) {
  epoll_event events[64];
  for (;;) {
    UpdateAccepting(loop);
    // Not accepting (full, or out of descriptors): look again soon, since
    // another loop may free the slot.
    const int timeout =
        loop->accepting ? -1 : static_cast<int>(absl::ToInt64Milliseconds(kAcceptPause));
    const int ready = epoll_wait(loop->epoll_fd, events, 64, timeout);
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == stop_fd_) {
        for (auto& [client_fd, client] : loop->clients) Close(client_fd);
        loop->clients.clear();
        return;
      }
      if (fd == listen_fd_) {
        Accept(loop);
        continue;
      }
      auto it = loop->clients.find(fd);
      if (it == loop->clients.end()) continue;
      if (!Serve(loop, fd, it->second)) {
        loop->clients.erase(it);
        Close(fd);
      }
    }
  }
}

void HttpServer::UpdateAccepting(Loop* loop) {
  const bool want =
      open_.load() < options_.max_connections && absl::Now() >= loop->accept_paused_until;
  if (want == loop->accepting) return;
  // EPOLLEXCLUSIVE: a new connection wakes one loop, not all of them. It
  // cannot be changed with EPOLL_CTL_MOD, so the socket is added and removed.
  epoll_event event{};
  event.events = EPOLLIN | EPOLLEXCLUSIVE;
  event.data.fd = listen_fd_;
  if (epoll_ctl(loop->epoll_fd, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, listen_fd_, &event) == 0) {
    loop->accepting = want;
  }
}

void HttpServer::Accept(Loop* loop) {
  int accepted = 0;
  while (accepted < kAcceptsPerWakeup && open_.load() < options_.max_connections) {
    sockaddr_storage address{};
    socklen_t size = sizeof(address);
    const int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&address), &size,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // The connection stays in the backlog; a level-triggered socket
        // would wake this loop at once, over and over.
        loop->accept_paused_until = absl::Now() + kAcceptPause;
        common::Log(common::LogLevel::kDebug, "http: cannot accept, pausing",
                    {{"error", strerror(errno)}});
      }
      return;
    }
    std::string remote = AddressText(address);
    if (!Admit(fd, remote)) {
      close(fd);
      continue;
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
      Close(fd);
      continue;
    }
    Client& client = loop->clients[fd];
    client.http = std::make_unique<HttpConnection>(
        HttpConnectionLimits{options_.max_header_bytes, options_.max_body_bytes,
                             options_.access_log},
        &handler_, std::move(remote));
    ++accepted;
  }
}

bool HttpServer::Serve(Loop* loop, int fd, Client& client) {
  HttpConnection& http = *client.http;
  if (!Flush(fd, client)) return false;
  bool peer_closed = false;
  char buffer[kReadBytes];
  for (int reads = 0; reads < kReadsPerWakeup && http.phase() != Phase::kResponding; ++reads) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n > 0) {
      http.Receive(absl::string_view(buffer, static_cast<size_t>(n)));
      if (!Flush(fd, client)) return false;
      continue;
    }
    if (n == 0) {
      peer_closed = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    return false;
  }
  // The client is gone: finish an answer in flight, drop anything else.
  if (peer_closed && http.phase() != Phase::kResponding) return false;

  if (http.phase() != client.reported || http.responses() != client.responses_reported) {
    Report(fd, http.phase(), http.responses() != client.responses_reported);
    client.reported = http.phase();
    client.responses_reported = http.responses();
  }
  const uint32_t interest = http.phase() == Phase::kResponding ? EPOLLOUT : EPOLLIN;
  if (interest != client.interest) {
    epoll_event event{};
    event.events = interest;
    event.data.fd = fd;
    if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, fd, &event) != 0) return false;
    client.interest = interest;
  }
  return true;
}

bool HttpServer::Flush(int fd, Client& client) {
  HttpConnection& http = *client.http;
  while (!http.output().empty()) {
    const absl::string_view out = http.output();
    const ssize_t n = send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      http.Sent(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
  if (http.phase() == Phase::kClosing && !client.shut) {
    // Our FIN follows the answer; reading on until the client closes (or
    // kLinger passes) keeps its unread bytes from turning into a reset that
    // could destroy the answer before the client reads it.
    shutdown(fd, SHUT_WR);
    client.shut = true;
  }
  return true;
}

bool HttpServer::Admit(int fd, const std::string& address) {
  absl::MutexLock lock(&mu_);
  int& from_address = per_address_[address];
  if (options_.max_connections_per_ip > 0 && from_address >= options_.max_connections_per_ip) {
    return false;
  }
  ++from_address;
  ConnectionState& state = connections_[fd];
  state.since = absl::Now();
  state.address = address;
  open_.store(static_cast<int>(connections_.size()));
  return true;
}

void HttpServer::Close(int fd) {
  {
    // Erased before the descriptor is closed: while an entry is in the map
    // (under mu_) its fd is still this connection's, so the sweeper can
    // never shut down a reused descriptor.
    absl::MutexLock lock(&mu_);
    auto it = connections_.find(fd);
    if (it != connections_.end()) {
      auto count = per_address_.find(it->second.address);
      if (count != per_address_.end() && --count->second <= 0) per_address_.erase(count);
      connections_.erase(it);
    }
    open_.store(static_cast<int>(connections_.size()));
  }
  close(fd);
}

void HttpServer::Report(int fd, Phase phase, bool restart) {
  absl::MutexLock lock(&mu_);
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  // A body's time counts from the head's start (request_timeout covers
  // both); every other phase starts a clock of its own.
  if (restart || (phase != it->second.phase && phase != Phase::kBody)) {
    it->second.since = absl::Now();
  }
  it->second.phase = phase;
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
  // shutdown, not close: the connection's loop sees end-of-stream (or a
  // failed send) and closes it itself, on its own thread.
  auto cut = [](int fd, ConnectionState& state) {
    shutdown(fd, SHUT_RDWR);
    state.cut = true;
  };
  int pending_close = 0;
  std::vector<std::pair<int, ConnectionState*>> unfinished;
  for (auto& [fd, state] : connections_) {
    if (state.cut) {
      ++pending_close;
      continue;
    }
    const absl::Duration waited = now - state.since;
    switch (state.phase) {
      case Phase::kResponding:
        if (waited >= options_.idle_timeout) cut(fd, state);
        continue;
      case Phase::kClosing:
        if (waited >= kLinger) cut(fd, state);
        continue;
      case Phase::kHeaders:
      case Phase::kBody:
        break;
    }
    if (waited >= options_.request_timeout) {
      cut(fd, state);
      ++(state.phase == Phase::kHeaders ? *late_headers : *late_requests);
    } else if (state.phase == Phase::kHeaders && waited >= options_.header_timeout) {
      cut(fd, state);
      ++*late_headers;
    } else {
      unfinished.emplace_back(fd, &state);
    }
  }
  // A connection counts until its loop has closed it, so a full server is
  // one whose table (cut connections included) reaches the limit. Each
  // connection cut and not yet closed already frees a slot for one waiting
  // client.
  const int open = static_cast<int>(connections_.size());
  if (open < options_.max_connections) return;
  const int waiting = backlog < 0 ? 1 : backlog;
  const int to_shed = std::min(waiting - pending_close - *late_headers - *late_requests,
                               static_cast<int>(unfinished.size()));
  if (to_shed <= 0) return;
  std::partial_sort(unfinished.begin(), unfinished.begin() + to_shed, unfinished.end(),
                    [](const auto& a, const auto& b) { return a.second->since < b.second->since; });
  for (int i = 0; i < to_shed; ++i) cut(unfinished[i].first, *unfinished[i].second);
  *shed = to_shed;
}

}  // namespace rtsptest::gateway
