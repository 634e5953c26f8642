// ConnectionAcceptor: see connection_acceptor.h.
#include "core/listener/connection_acceptor.h"

#include <errno.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/listener/batched_output.h"
#include "core/listener/send_workers.h"

namespace rtsptest::core {
namespace {

// RTSP_TEST_SEND_BATCHING=off leaves writes to gst-rtsp-server (one write
// per packet per reader, on the stream's send thread): for side-by-side
// benchmarks, and to rule the batching out when chasing a problem.
bool BatchedWrites() {
  static const bool batched = [] {
    const char* value = std::getenv("RTSP_TEST_SEND_BATCHING");
    return value == nullptr || std::string(value) != "off";
  }();
  return batched;
}

// Connections taken per wake-up, so that one busy port cannot keep its
// loop from the clients it serves.
constexpr int kAcceptBatch = 64;
constexpr absl::Duration kFirstBackOff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackOff = absl::Seconds(1);
constexpr char kServiceUnavailable[] =
    "RTSP/1.0 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

bool OutOfResources(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

// ip and port of the far end, as gst-rtsp-server would write them.
bool RemoteOf(GSocket* socket, std::string* ip, int* port) {
  GSocketAddress* address = g_socket_get_remote_address(socket, nullptr);
  if (address == nullptr) return false;
  gchar* text =
      g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(address)));
  *ip = text;
  *port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(address));
  g_free(text);
  g_object_unref(address);
  return true;
}

}  // namespace

ConnectionAcceptor::GuardStats::GuardStats()
    : log(common::LogLevel::kWarning, "closed an RTSP connection whose request broke the limits") {}

ConnectionAcceptor::ConnectionAcceptor(std::string listener, GstRTSPServer* server,
                                       std::function<int()> open_connections)
    : listener_(std::move(listener)),
      server_(server),
      open_connections_(std::move(open_connections)),
      stats_(std::make_shared<GuardStats>()),
      over_limit_log_(common::LogLevel::kWarning,
                      "refused an RTSP connection: the listener is at its connection limit"),
      accept_failure_log_(common::LogLevel::kError,
                          "accept failed; the listener backs off (out of descriptors?)") {
  auto guard = std::make_shared<RequestGuard>();
  guard->on_violation = [stats = stats_, name = listener_](const LimitViolation& violation,
                                                           const std::string& remote) {
    stats->requests_over_limits.fetch_add(1);
    stats->log.Record({{"listener", name},
                       {"remote", remote},
                       {"status", violation.status},
                       {"reason", violation.detail}});
  };
  guard_ = std::move(guard);
}

absl::Duration ConnectionAcceptor::AcceptPending(GSocket* socket) {
  for (int i = 0; i < kAcceptBatch; ++i) {
    const int fd = accept4(g_socket_get_fd(socket), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      const int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) break;
      if (!OutOfResources(error)) continue;  // EINTR, ECONNABORTED, a network error: retry
      accept_failures_.fetch_add(1);
      back_off_ = std::clamp(back_off_ * 2, kFirstBackOff, kMaxBackOff);
      accept_failure_log_.Record({{"listener", listener_},
                                  {"error", std::strerror(error)},
                                  {"back_off_ms", absl::ToInt64Milliseconds(back_off_)}});
      return back_off_;
    }
    back_off_ = absl::ZeroDuration();
    GSocket* connection = g_socket_new_from_fd(fd, nullptr);
    if (connection == nullptr) {
      close(fd);
      continue;
    }
    const int max = max_connections_.load();
    if (max > 0 && open_connections_() >= max) {
      RefuseOverLimit(connection);
      continue;
    }
    std::string ip;
    int port = 0;
    if (!RemoteOf(connection, &ip, &port)) {  // gone already
      g_object_unref(connection);
      continue;
    }
    GuardSocket(connection, guard_, absl::StrCat(ip, ":", port));
    if (BatchedWrites()) BatchSocketOutput(connection, &SendWorkers::Shared());
    // Takes the socket; on failure it has closed it.
    gst_rtsp_server_transfer_connection(server_, connection, ip.c_str(), port, nullptr);
  }
  return absl::ZeroDuration();
}

void ConnectionAcceptor::FlushLogs(absl::Time now) {
  const std::vector<common::LogField> fields = {{"listener", listener_}};
  over_limit_log_.Flush(fields, now);
  accept_failure_log_.Flush(fields, now);
  stats_->log.Flush(fields, now);
}

void ConnectionAcceptor::RefuseOverLimit(GSocket* connection) {
  refused_over_limit_.fetch_add(1);
  over_limit_log_.Record({{"listener", listener_}, {"max_connections", max_connections_.load()}});
  g_socket_send_with_blocking(connection, kServiceUnavailable, sizeof(kServiceUnavailable) - 1,
                              FALSE, nullptr, nullptr);
  g_socket_close(connection, nullptr);
  g_object_unref(connection);
}

}  // namespace rtsptest::core
