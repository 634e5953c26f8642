// StalledReaderReaper: see stalled_reader_reaper.h.
#include "core/listener/stalled_reader_reaper.h"

#include <linux/sockios.h>
#include <netinet/in.h>
#include <linux/tcp.h>  // tcp_info with tcpi_bytes_acked (glibc's lacks it)
#include <sys/ioctl.h>

#include <utility>

namespace rtsptest::core {
namespace {

// The bytes queued for sending and the bytes the peer acknowledged so far;
// false when the connection has no TCP socket to ask.
bool SendProgress(GstRTSPClient* client, int* queued, uint64_t* acked) {
  GstRTSPConnection* connection = gst_rtsp_client_get_connection(client);
  if (connection == nullptr) return false;
  GSocket* socket = gst_rtsp_connection_get_write_socket(connection);
  if (socket == nullptr) return false;
  const int fd = g_socket_get_fd(socket);
  tcp_info info{};
  socklen_t length = sizeof(info);
  if (ioctl(fd, SIOCOUTQ, queued) != 0 ||
      getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) {
    return false;
  }
  *acked = info.tcpi_bytes_acked;
  return true;
}

}  // namespace

StalledReaderReaper::StalledReaderReaper(std::string listener, absl::Duration stall)
    : listener_(std::move(listener)),
      stall_(stall),
      log_(common::LogLevel::kWarning, "closed a reader that stopped reading") {}

void StalledReaderReaper::Sweep(GstRTSPServer* server, absl::Time now) {
  now_ = now;
  seen_.clear();
  gst_rtsp_server_client_filter(server, &StalledReaderReaper::Visit, this);
  progress_.swap(seen_);
}

GstRTSPFilterResult StalledReaderReaper::Visit(GstRTSPServer*, GstRTSPClient* client,
                                               gpointer self) {
  auto* reaper = static_cast<StalledReaderReaper*>(self);
  int queued = 0;
  uint64_t acked = 0;
  if (!SendProgress(client, &queued, &acked)) return GST_RTSP_FILTER_KEEP;
  Progress progress{acked, reaper->now_};
  auto it = reaper->progress_.find(client);
  if (it != reaper->progress_.end() && queued > 0 && it->second.acked == acked) {
    progress.since = it->second.since;  // still stuck
  }
  if (reaper->now_ - progress.since < reaper->stall_) {
    reaper->seen_[client] = progress;
    return GST_RTSP_FILTER_KEEP;
  }
  reaper->dropped_.fetch_add(1);
  reaper->log_.Record({{"listener", reaper->listener_},
                       {"queued_bytes", queued},
                       {"stalled_s", absl::ToInt64Seconds(reaper->now_ - progress.since)}});
  return GST_RTSP_FILTER_REMOVE;  // closes the client's connection
}

}  // namespace rtsptest::core
