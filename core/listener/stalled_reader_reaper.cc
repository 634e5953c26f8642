// StalledReaderReaper: see stalled_reader_reaper.h.
#include "core/listener/stalled_reader_reaper.h"

#include <linux/sockios.h>
#include <linux/tcp.h>  // tcp_info with tcpi_bytes_acked (glibc's lacks it)
#include <netinet/in.h>
#include <sys/ioctl.h>

#include <utility>

namespace rtsptest::core {
namespace {

// What TCP says of a client's connection.
struct Traffic {
  int queued = 0;                // bytes waiting to be sent (or acknowledged)
  uint64_t acked = 0;            // bytes the peer has acknowledged so far
  absl::Duration since_receive;  // since the peer last sent data
};

bool HasSession(GstRTSPClient* client) {
  GList* sessions = gst_rtsp_client_session_filter(client, nullptr, nullptr);
  const bool any = sessions != nullptr;
  g_list_free_full(sessions, g_object_unref);
  return any;
}

// False when the connection has no TCP socket to ask.
bool TrafficOf(GstRTSPClient* client, Traffic* traffic) {
  GstRTSPConnection* connection = gst_rtsp_client_get_connection(client);
  if (connection == nullptr) return false;
  GSocket* socket = gst_rtsp_connection_get_write_socket(connection);
  if (socket == nullptr) return false;
  const int fd = g_socket_get_fd(socket);
  tcp_info info{};
  socklen_t length = sizeof(info);
  if (ioctl(fd, SIOCOUTQ, &traffic->queued) != 0 ||
      getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) {
    return false;
  }
  traffic->acked = info.tcpi_bytes_acked;
  traffic->since_receive = absl::Milliseconds(info.tcpi_last_data_recv);
  return true;
}

}  // namespace

StalledReaderReaper::StalledReaderReaper(std::string listener, absl::Duration stall,
                                         absl::Duration idle)
    : listener_(std::move(listener)),
      stall_(stall),
      idle_ms_(absl::ToInt64Milliseconds(idle)),
      log_(common::LogLevel::kWarning, "closed a reader that stopped reading"),
      idle_log_(common::LogLevel::kInfo, "closed a silent RTSP connection with no session") {}

void StalledReaderReaper::Sweep(GstRTSPServer* server, absl::Time now) {
  now_ = now;
  seen_.clear();
  gst_rtsp_server_client_filter(server, &StalledReaderReaper::Visit, this);
  progress_.swap(seen_);
  log_.Flush({{"listener", listener_}}, now);
  idle_log_.Flush({{"listener", listener_}}, now);
}

GstRTSPFilterResult StalledReaderReaper::Visit(GstRTSPServer*, GstRTSPClient* client,
                                               gpointer self) {
  auto* reaper = static_cast<StalledReaderReaper*>(self);
  Traffic traffic;
  if (!TrafficOf(client, &traffic)) return GST_RTSP_FILTER_KEEP;
  if (traffic.queued == 0 && traffic.since_receive >= absl::Milliseconds(reaper->idle_ms_.load()) &&
      !HasSession(client)) {
    reaper->idle_closed_.fetch_add(1);
    reaper->idle_log_.Record({{"listener", reaper->listener_},
                              {"silent_s", absl::ToInt64Seconds(traffic.since_receive)}});
    return GST_RTSP_FILTER_REMOVE;  // closes the client's connection
  }
  Progress progress{traffic.acked, reaper->now_};
  auto it = reaper->progress_.find(client);
  if (it != reaper->progress_.end() && traffic.queued > 0 && it->second.acked == traffic.acked) {
    progress.since = it->second.since;  // still stuck
  }
  if (reaper->now_ - progress.since < reaper->stall_) {
    reaper->seen_[client] = progress;
    return GST_RTSP_FILTER_KEEP;
  }
  reaper->dropped_.fetch_add(1);
  reaper->log_.Record({{"listener", reaper->listener_},
                       {"queued_bytes", traffic.queued},
                       {"stalled_s", absl::ToInt64Seconds(reaper->now_ - progress.since)}});
  return GST_RTSP_FILTER_REMOVE;
}

}  // namespace rtsptest::core
