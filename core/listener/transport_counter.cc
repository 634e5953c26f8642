// Counting RTP per reader. See transport_counter.h.
#include "core/listener/transport_counter.h"

#include <atomic>
#include <cstring>
#include <utility>

#include "core/listener/fan_out.h"
#include "core/media/rtp_progress.h"

namespace rtsptest::core {
namespace {

// gst-rtsp-server has no public getter for a transport's send callbacks, and
// the client's own callbacks (do_send_data in rtsp-client.c) are static, so a
// wrapper can only reach them through the transport's private struct. This
// is the head of GstRTSPStreamTransportPrivate as in gst-rtsp-server 1.22
// (rtsp-stream-transport.c), up to the fields read here. CountTcpTransport()
// checks every pointer it can against the public getters before trusting
// it, and counts nothing when they disagree (another layout).
struct TransportPrivateHead {
  GstRTSPStream* stream;
  GstRTSPSendFunc send_rtp;
  GstRTSPSendFunc send_rtcp;
  gpointer user_data;
  GDestroyNotify notify;
  GstRTSPSendListFunc send_rtp_list;
  GstRTSPSendListFunc send_rtcp_list;
  gpointer list_user_data;
  GDestroyNotify list_notify;
  gpointer back_pressure_func;  // GstRTSPBackPressureFunc, a private type
  gpointer back_pressure_func_data;
  GDestroyNotify back_pressure_func_notify;
  GstRTSPKeepAliveFunc keep_alive;
  gpointer ka_user_data;
  GDestroyNotify ka_notify;
  gboolean timed_out;
  GstRTSPMessageSentFunc message_sent;
  gpointer ms_user_data;
  GDestroyNotify ms_notify;
  GstRTSPMessageSentFuncFull message_sent_full;
  gpointer msf_user_data;
  GDestroyNotify msf_notify;
  GstRTSPTransport* transport;
  GstRTSPUrl* url;
};

constexpr char kTapKey[] = "rts-tcp-tap";

// The client's callbacks and this reader's counts. Owned by the transport
// (object data), so it lives exactly as long as the callbacks that use it.
struct TcpTap {
  GstRTSPSendFunc send_rtp;
  GstRTSPSendFunc send_rtcp;
  gpointer user_data;
  GstRTSPSendListFunc send_rtp_list;
  GstRTSPSendListFunc send_rtcp_list;
  gpointer list_user_data;
  // Written by the stream's one send thread, read by anyone.
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> packets{0};
  // The track's fan-out and this reader in it; both null when the reader
  // stays with gst-rtsp-server.
  std::shared_ptr<FanOut> fan_out;
  std::shared_ptr<FanOut::Reader> reader;
  // The transport (borrowed: it owns the tap), the interleaved channel of
  // its RTCP, and the main context of its client's thread (a reference),
  // where it is taken out of and put back in the stream's list.
  GstRTSPStreamTransport* transport = nullptr;
  guint8 rtcp_channel = 1;
  GMainContext* client_context = nullptr;
  // An Unlist job is queued on the client's thread.
  std::atomic<bool> unlist_queued{false};
  // The client's thread only: the stream no longer lists the transport.
  bool unlisted = false;

  ~TcpTap() {
    if (reader != nullptr) reader->Leave();
    if (unlisted) fan_out->CountUnlisted(-1);
    if (client_context != nullptr) g_main_context_unref(client_context);
  }
  bool FannedOut() const { return reader != nullptr && reader->joined(); }
  // After gst-rtsp-server has sent the reader the item ending at `last`.
  void HandOver(guint8 channel, int32_t last) {
    if (reader != nullptr && last >= 0 && reader->waiting()) {
      fan_out->Join(reader, channel, rtcp_channel, static_cast<uint16_t>(last));
    }
  }
  // gst-rtsp-server handed the fan-out's reader an item: take the transport
  // out of its send loop, whose work per item grows with the transports it
  // lists (rtsp-stream.c, send_tcp_message: a backlog, locks and a callback
  // per reader). Not from here: the send thread holds the transport's
  // backlog lock, which removing takes.
  void UnlistSoon();
  // On the client's thread: takes the transport out of the stream's list,
  // or puts it back (before gst-rtsp-server changes its state itself).
  void Unlist();
  void Relist();
};

gboolean RunUnlist(gpointer data) {
  auto* transport = static_cast<GstRTSPStreamTransport*>(data);
  auto* tap = static_cast<TcpTap*>(g_object_get_data(G_OBJECT(transport), kTapKey));
  if (tap != nullptr) tap->Unlist();
  return G_SOURCE_REMOVE;
}

void TcpTap::UnlistSoon() {
  if (client_context == nullptr || unlist_queued.exchange(true)) return;
  GSource* source = g_idle_source_new();
  g_source_set_callback(source, &RunUnlist, g_object_ref(transport), g_object_unref);
  g_source_attach(source, client_context);
  g_source_unref(source);
}

void TcpTap::Unlist() {
  unlist_queued.store(false);
  if (unlisted || !FannedOut()) return;
  GstRTSPStream* stream = gst_rtsp_stream_transport_get_stream(transport);
  GstBin* bin = gst_rtsp_stream_get_joined_bin(stream);
  if (bin == nullptr) return;  // the stream is going away
  gst_object_unref(bin);
  // False when gst-rtsp-server has taken it out itself (a close).
  if (!gst_rtsp_stream_remove_transport(stream, transport)) return;
  unlisted = true;
  fan_out->CountUnlisted(1);
}

void TcpTap::Relist() {
  if (!unlisted) return;
  unlisted = false;
  fan_out->CountUnlisted(-1);
  GstRTSPStream* stream = gst_rtsp_stream_transport_get_stream(transport);
  GstBin* bin = gst_rtsp_stream_get_joined_bin(stream);
  if (bin == nullptr) return;  // the stream is going away
  gst_object_unref(bin);
  gst_rtsp_stream_add_transport(stream, transport);
}

void Count(TcpTap* tap, uint64_t bytes, uint64_t packets) {
  tap->bytes.fetch_add(bytes, std::memory_order_relaxed);
  tap->packets.fetch_add(packets, std::memory_order_relaxed);
}

// A fanned-out reader's items are written by the fan-out, which counts them.
gboolean TapRtp(GstBuffer* buffer, guint8 channel, gpointer data) {
  auto* tap = static_cast<TcpTap*>(data);
  if (tap->FannedOut()) {
    tap->UnlistSoon();
    return TRUE;
  }
  gboolean sent = tap->send_rtp(buffer, channel, tap->user_data);
  if (sent) {
    Count(tap, gst_buffer_get_size(buffer), 1);
    tap->HandOver(channel, LastSequenceOf(buffer));
  }
  return sent;
}

gboolean TapRtcp(GstBuffer* buffer, guint8 channel, gpointer data) {
  auto* tap = static_cast<TcpTap*>(data);
  if (tap->FannedOut()) return TRUE;
  return tap->send_rtcp(buffer, channel, tap->user_data);
}

gboolean TapRtpList(GstBufferList* list, guint8 channel, gpointer data) {
  auto* tap = static_cast<TcpTap*>(data);
  if (tap->FannedOut()) {
    tap->UnlistSoon();
    return TRUE;
  }
  gboolean sent = tap->send_rtp_list(list, channel, tap->list_user_data);
  if (sent) {
    Count(tap, gst_buffer_list_calculate_size(list), gst_buffer_list_length(list));
    tap->HandOver(channel, LastSequenceOf(list));
  }
  return sent;
}

gboolean TapRtcpList(GstBufferList* list, guint8 channel, gpointer data) {
  auto* tap = static_cast<TcpTap*>(data);
  if (tap->FannedOut()) return TRUE;
  return tap->send_rtcp_list(list, channel, tap->list_user_data);
}

bool LayoutMatches(GstRTSPStreamTransport* transport, const TransportPrivateHead* head,
                   GstRTSPClient* client) {
  guint major = 0, minor = 0, micro = 0, nano = 0;
  gst_version(&major, &minor, &micro, &nano);
  return major == 1 && minor == 22 &&
         head->stream == gst_rtsp_stream_transport_get_stream(transport) &&
         head->transport == gst_rtsp_stream_transport_get_transport(transport) &&
         head->url == gst_rtsp_stream_transport_get_url(transport) && head->user_data == client &&
         head->list_user_data == client && head->send_rtp != nullptr &&
         head->send_rtcp != nullptr && head->send_rtp_list != nullptr &&
         head->send_rtcp_list != nullptr;
}

// Per-destination counts of the multiudpsinks of `bin` for host:port (only
// the RTP sink of the reader's track has that destination).
RtpCounts ReadUdpSinks(GstBin* bin, const char* host, int port) {
  RtpCounts counts;
  GstIterator* it = gst_bin_iterate_recurse(bin);
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* element = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory* factory = gst_element_get_factory(element);
    if (factory != nullptr && std::strcmp(GST_OBJECT_NAME(factory), "multiudpsink") == 0) {
      GstStructure* stats = nullptr;
      g_signal_emit_by_name(element, "get-stats", host, port, &stats);
      if (stats != nullptr) {
        guint64 bytes = 0, packets = 0;
        if (gst_structure_get_uint64(stats, "bytes-sent", &bytes) &&
            gst_structure_get_uint64(stats, "packets-sent", &packets)) {
          counts.bytes += bytes;
          counts.packets += packets;
        }
        gst_structure_free(stats);
      }
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return counts;
}

}  // namespace

bool CountTcpTransport(GstRTSPStreamTransport* transport, GstRTSPClient* client,
                       std::shared_ptr<SendQueue> queue) {
  const GstRTSPTransport* t = gst_rtsp_stream_transport_get_transport(transport);
  if (t == nullptr || t->lower_transport != GST_RTSP_LOWER_TRANS_TCP) return false;
  auto* head = reinterpret_cast<const TransportPrivateHead*>(transport->priv);
  if (head->send_rtp == &TapRtp) return true;  // already counted (a repeated SETUP)
  if (!LayoutMatches(transport, head, client)) return false;
  auto* tap = new TcpTap{head->send_rtp,      head->send_rtcp,      head->user_data,
                         head->send_rtp_list, head->send_rtcp_list, head->list_user_data};
  if (queue != nullptr) {
    tap->fan_out = FanOut::Of(gst_rtsp_stream_transport_get_stream(transport));
    if (tap->fan_out != nullptr) tap->reader = std::make_shared<FanOut::Reader>(std::move(queue));
  }
  tap->transport = transport;
  tap->rtcp_channel = static_cast<guint8>(t->interleaved.max);
  // Called from the client's watch: its context is the client's thread.
  GSource* current = g_main_current_source();
  if (tap->reader != nullptr && current != nullptr && g_source_get_context(current) != nullptr) {
    tap->client_context = g_main_context_ref(g_source_get_context(current));
  }
  // The client installed its callbacks without a destroy notify (it
  // outlives its transports), so replacing them frees nothing.
  gst_rtsp_stream_transport_set_callbacks(transport, &TapRtp, &TapRtcp, tap, nullptr);
  gst_rtsp_stream_transport_set_list_callbacks(transport, &TapRtpList, &TapRtcpList, tap, nullptr);
  g_object_set_data_full(G_OBJECT(transport), kTapKey, tap,
                         [](gpointer data) { delete static_cast<TcpTap*>(data); });
  return true;
}

void RelistTransport(GstRTSPStreamTransport* transport) {
  auto* tap = static_cast<TcpTap*>(g_object_get_data(G_OBJECT(transport), kTapKey));
  if (tap != nullptr) tap->Relist();
}

void LeaveFanOut(GstRTSPStreamTransport* transport) {
  auto* tap = static_cast<TcpTap*>(g_object_get_data(G_OBJECT(transport), kTapKey));
  if (tap == nullptr || tap->reader == nullptr) return;
  tap->reader->Leave();
  tap->Relist();
}

RtpCounts ReadTransportCounts(GstRTSPStreamTransport* transport) {
  const GstRTSPTransport* t = gst_rtsp_stream_transport_get_transport(transport);
  if (t == nullptr) return {};
  if (t->lower_transport == GST_RTSP_LOWER_TRANS_TCP) {
    auto* tap = static_cast<TcpTap*>(g_object_get_data(G_OBJECT(transport), kTapKey));
    if (tap == nullptr) return {};
    RtpCounts counts{tap->bytes.load(std::memory_order_relaxed),
                     tap->packets.load(std::memory_order_relaxed)};
    if (tap->reader != nullptr) {
      counts.bytes += tap->reader->bytes();
      counts.packets += tap->reader->packets();
    }
    return counts;
  }
  GstRTSPStream* stream = gst_rtsp_stream_transport_get_stream(transport);
  if (stream == nullptr || t->destination == nullptr) return {};
  GstBin* bin = gst_rtsp_stream_get_joined_bin(stream);
  if (bin == nullptr) return {};
  const int port =
      t->lower_transport == GST_RTSP_LOWER_TRANS_UDP_MCAST ? t->port.min : t->client_port.min;
  RtpCounts counts = ReadUdpSinks(bin, t->destination, port);
  gst_object_unref(bin);
  return counts;
}

}  // namespace rtsptest::core
