// RtspListener: gst-rtsp-server on a dedicated GLib main loop thread.
#include "core/listener/rtsp_listener.h"

#include <gio/gio.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/log/log.h"
#include "core/glib/gst_ptr.h"

namespace rtsptest::core {
namespace {

// Runs `fn` on `context`'s thread and waits for it, so that GSources are
// created and destroyed by the thread that dispatches them.
template <typename Fn>
void RunOnContext(GMainContext* context, Fn fn) {
  struct Call {
    Fn fn;
    absl::Notification done;
  } call{std::move(fn), {}};
  g_main_context_invoke(
      context,
      [](gpointer data) -> gboolean {
        auto* c = static_cast<Call*>(data);
        c->fn();
        c->done.Notify();
        return G_SOURCE_REMOVE;
      },
      &call);
  call.done.WaitForNotification();
}

constexpr int kListenBacklog = 1024;
constexpr int kClientThreads = 8;

// What OPTIONS lists in its Public header: the methods this server answers.
// gst-rtsp-server also lists ANNOUNCE and RECORD to RTSP/1.0 clients, which
// every stream here refuses with 405 (no factory records); a client that
// trusts the header must not be offered them.
constexpr GstRTSPMethod kServedMethods = static_cast<GstRTSPMethod>(
    GST_RTSP_OPTIONS | GST_RTSP_DESCRIBE | GST_RTSP_SETUP | GST_RTSP_PLAY | GST_RTSP_PAUSE |
    GST_RTSP_TEARDOWN | GST_RTSP_GET_PARAMETER | GST_RTSP_SET_PARAMETER);

// "pre-options-request": the response is complete but not yet sent, so its
// Public header can be replaced.
GstRTSPStatusCode ListServedMethods(GstRTSPClient*, GstRTSPContext* context, gpointer) {
  gst_rtsp_message_remove_header(context->response, GST_RTSP_HDR_PUBLIC, -1);
  gchar* methods = gst_rtsp_options_as_text(kServedMethods);
  gst_rtsp_message_add_header(context->response, GST_RTSP_HDR_PUBLIC, methods);
  g_free(methods);
  return GST_RTSP_STS_OK;
}

gboolean CleanupSessions(GstRTSPSessionPool* pool, gpointer) {
  gst_rtsp_session_pool_cleanup(pool);
  return G_SOURCE_CONTINUE;
}

}  // namespace

RtspListener::RtspListener(std::string name, std::string bind_address, uint32_t port)
    : name_(std::move(name)), bind_address_(std::move(bind_address)), configured_port_(port) {
  server_ = gst_rtsp_server_new();
  // gst-rtsp-server's default accept backlog is 5: a burst of readers (a
  // load test, a fleet of clients reconnecting after a blip) then waits out
  // SYN retransmits of 1, 3, 7 s. The kernel caps this at somaxconn.
  gst_rtsp_server_set_backlog(server_, kListenBacklog);
  // Clients get threads of their own (up to kClientThreads, then shared):
  // a burst of connecting readers, whose requests and TCP-interleaved media
  // would otherwise all queue on this listener's one loop, cannot starve
  // the readers already playing. Accepting stays on the listener's loop.
  GstRTSPThreadPool* pool = gst_rtsp_server_get_thread_pool(server_);
  gst_rtsp_thread_pool_set_max_threads(pool, kClientThreads);
  g_object_unref(pool);
  mounts_ = gst_rtsp_server_get_mount_points(server_);
  context_ = g_main_context_new();
  loop_ = g_main_loop_new(context_, FALSE);
  g_signal_connect(server_, "client-connected", G_CALLBACK(&RtspListener::OnClientConnected), this);
}

RtspListener::~RtspListener() {
  Stop();
  g_object_unref(mounts_);
  g_object_unref(server_);
  g_main_loop_unref(loop_);
  g_main_context_unref(context_);
}

void RtspListener::RunLoop() {
  // gst-rtsp-server attaches each client to the thread-default context of
  // the thread that accepted it, so this loop's context must be the default.
  g_main_context_push_thread_default(context_);
  g_main_loop_run(loop_);
  g_main_context_pop_thread_default(context_);
}

absl::Status RtspListener::AttachListeningSource() {
  gst_rtsp_server_set_address(server_, bind_address_.c_str());
  uint32_t port = bound_port_.load() != 0 ? bound_port_.load() : configured_port_;
  gst_rtsp_server_set_service(server_, std::to_string(port).c_str());
  GError* raw_error = nullptr;
  GSocket* socket = gst_rtsp_server_create_socket(server_, nullptr, &raw_error);
  if (socket == nullptr) {
    GErrorPtr error(raw_error);
    absl::Status status = StatusFromGError(
        absl::StrCat("listener ", name_, ": bind ", bind_address_, ":", port), error.get());
    absl::MutexLock lock(&mutex_);
    last_error_ = std::string(status.message());
    return status;
  }
  // What gst_rtsp_server_create_source() does, minus its private reference
  // to the socket.
  GSource* source = g_socket_create_source(
      socket, static_cast<GIOCondition>(G_IO_IN | G_IO_ERR | G_IO_HUP | G_IO_NVAL), nullptr);
  g_source_set_callback(source, reinterpret_cast<GSourceFunc>(&gst_rtsp_server_io_func),
                        g_object_ref(server_), g_object_unref);
  uint32_t bound = port;
  if (GSocketAddress* local = g_socket_get_local_address(socket, nullptr)) {
    bound = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
    g_object_unref(local);
  }
  g_source_attach(source, context_);
  absl::MutexLock lock(&mutex_);
  listen_socket_ = socket;
  listen_source_ = source;
  last_error_.clear();
  bound_port_.store(bound);
  return absl::OkStatus();
}

absl::Status RtspListener::Start() {
  absl::Status status = AttachListeningSource();
  if (!status.ok()) {
    common::Log(common::LogLevel::kError, "listener failed to bind; it stays down",
                {{"listener", name_},
                 {"address", bind_address_},
                 {"port", configured_port_},
                 {"error", std::string(status.message())}});
    return status;
  }
  {
    absl::MutexLock lock(&mutex_);
    GstRTSPSessionPool* pool = gst_rtsp_server_get_session_pool(server_);
    session_gc_source_ = gst_rtsp_session_pool_create_watch(pool);
    g_source_set_callback(session_gc_source_, reinterpret_cast<GSourceFunc>(&CleanupSessions),
                          nullptr, nullptr);
    g_source_attach(session_gc_source_, context_);
    g_object_unref(pool);
  }
  thread_ = std::thread([this] { RunLoop(); });
  common::Log(common::LogLevel::kInfo, "listener serving",
              {{"listener", name_}, {"address", bind_address_}, {"port", bound_port()}});
  return absl::OkStatus();
}

void RtspListener::CloseListeningSocket() {
  GSource* source;
  GSocket* socket;
  {
    absl::MutexLock lock(&mutex_);
    source = std::exchange(listen_source_, nullptr);
    socket = std::exchange(listen_socket_, nullptr);
    last_error_ = "listening socket closed";
  }
  if (source == nullptr) return;
  g_source_destroy(source);
  g_source_unref(source);
  // Close explicitly: the source may still be dispatching on the loop thread
  // and hold a reference, but new connections must be refused from now on.
  // shutdown() first: while the loop thread sits in poll() on the descriptor,
  // close() alone may leave the kernel socket listening until poll returns;
  // shutdown() of a listening socket stops listening at once.
  g_socket_shutdown(socket, TRUE, TRUE, nullptr);
  g_socket_close(socket, nullptr);
  g_object_unref(socket);
}

absl::Status RtspListener::ReopenListeningSocket() {
  {
    absl::MutexLock lock(&mutex_);
    if (listen_source_ != nullptr) return absl::OkStatus();
  }
  return AttachListeningSource();
}

void RtspListener::StallLoopFor(absl::Duration duration) {
  g_main_context_invoke(
      context_,
      [](gpointer data) -> gboolean {
        auto* d = static_cast<absl::Duration*>(data);
        absl::SleepFor(*d);
        delete d;
        return G_SOURCE_REMOVE;
      },
      new absl::Duration(duration));
}

void RtspListener::Stop() {
  CloseListeningSocket();
  if (thread_.joinable()) {
    RunOnContext(context_, [this] {
      {
        absl::MutexLock lock(&mutex_);
        if (session_gc_source_ != nullptr) {
          g_source_destroy(session_gc_source_);
          g_source_unref(session_gc_source_);
          session_gc_source_ = nullptr;
        }
      }
      // Closes every client connection of this server.
      gst_rtsp_server_client_filter(
          server_, [](GstRTSPServer*, GstRTSPClient*, gpointer) { return GST_RTSP_FILTER_REMOVE; },
          nullptr);
    });
    g_main_loop_quit(loop_);
    thread_.join();
  }
  bound_port_.store(0);
}

std::string RtspListener::last_error() const {
  absl::MutexLock lock(&mutex_);
  return last_error_;
}

void RtspListener::Mount(absl::string_view path, GstRTSPMediaFactory* factory) {
  gst_rtsp_mount_points_add_factory(mounts_, std::string(path).c_str(),
                                    GST_RTSP_MEDIA_FACTORY(g_object_ref(factory)));
}

void RtspListener::Unmount(absl::string_view path) {
  gst_rtsp_mount_points_remove_factory(mounts_, std::string(path).c_str());
}

namespace {

// Finds whether a client has a session on a given media.
struct MediaSearch {
  GstRTSPMedia* media;
  bool found = false;
};

GstRTSPFilterResult MatchSessionMedia(GstRTSPSession*, GstRTSPSessionMedia* session_media,
                                      gpointer data) {
  auto* search = static_cast<MediaSearch*>(data);
  if (gst_rtsp_session_media_get_media(session_media) == search->media) search->found = true;
  return GST_RTSP_FILTER_KEEP;
}

GstRTSPFilterResult MatchClientSession(GstRTSPClient*, GstRTSPSession* session, gpointer data) {
  gst_rtsp_session_filter(session, &MatchSessionMedia, data);
  return GST_RTSP_FILTER_KEEP;
}

struct CloseSearch {
  GstRTSPMedia* media;
  int closed = 0;
};

// Runs with the server locked; REMOVE makes gst-rtsp-server close the client
// (gst_rtsp_client_close) after unlocking it.
GstRTSPFilterResult CloseIfReading(GstRTSPServer*, GstRTSPClient* client, gpointer data) {
  auto* close = static_cast<CloseSearch*>(data);
  MediaSearch search{close->media};
  gst_rtsp_client_session_filter(client, &MatchClientSession, &search);
  if (!search.found) return GST_RTSP_FILTER_KEEP;
  ++close->closed;
  return GST_RTSP_FILTER_REMOVE;
}

}  // namespace

int RtspListener::CloseReadersOf(GstRTSPMedia* media) {
  CloseSearch close{media};
  gst_rtsp_server_client_filter(server_, &CloseIfReading, &close);
  return close.closed;
}

void RtspListener::OnClientConnected(GstRTSPServer*, GstRTSPClient* client, gpointer self) {
  auto* listener = static_cast<RtspListener*>(self);
  listener->clients_.fetch_add(1);
  listener->accepted_.fetch_add(1);
  g_signal_connect(client, "closed", G_CALLBACK(&RtspListener::OnClientClosed), self);
  g_signal_connect(client, "pre-options-request", G_CALLBACK(&ListServedMethods), nullptr);
  if (listener->play_observer_) {
    g_signal_connect(client, "pre-play-request", G_CALLBACK(&RtspListener::OnPrePlayRequest), self);
  }
  g_signal_connect(client, "play-request", G_CALLBACK(&RtspListener::OnPlayRequest), self);
}

namespace {

// The path and remote address of the session a client opened (its first
// PLAY), kept on the client object so that "closed" reports the same ones,
// once, even after the connection is gone.
constexpr char kSessionPathKey[] = "rts-session-path";
constexpr char kSessionRemoteKey[] = "rts-session-remote";

std::string RemoteAddress(GstRTSPClient* client) {
  GstRTSPConnection* connection = gst_rtsp_client_get_connection(client);
  const gchar* ip = connection != nullptr ? gst_rtsp_connection_get_ip(connection) : nullptr;
  return ip != nullptr ? ip : "";
}

}  // namespace

void RtspListener::SetSessionObserver(SessionObserver observer) {
  absl::MutexLock lock(&mutex_);
  session_observer_ = std::move(observer);
}

void RtspListener::NotifySession(const SessionEvent& event) {
  SessionObserver observer;
  {
    absl::MutexLock lock(&mutex_);
    observer = session_observer_;
  }
  if (observer) observer(event);
}

GstRTSPStatusCode RtspListener::OnPrePlayRequest(GstRTSPClient*, GstRTSPContext* context,
                                                 gpointer self) {
  if (context != nullptr && context->uri != nullptr && context->uri->abspath != nullptr) {
    static_cast<RtspListener*>(self)->play_observer_(PlayPhase::kActivating, context->uri->abspath,
                                                     context);
  }
  return GST_RTSP_STS_OK;
}

void RtspListener::OnPlayRequest(GstRTSPClient* client, GstRTSPContext* context, gpointer self) {
  if (context == nullptr || context->uri == nullptr || context->uri->abspath == nullptr) return;
  auto* listener = static_cast<RtspListener*>(self);
  if (listener->play_observer_) {
    listener->play_observer_(PlayPhase::kPlaying, context->uri->abspath, context);
  }
  if (g_object_get_data(G_OBJECT(client), kSessionPathKey) == nullptr) {
    const std::string remote = RemoteAddress(client);
    g_object_set_data_full(G_OBJECT(client), kSessionPathKey, g_strdup(context->uri->abspath),
                           g_free);
    g_object_set_data_full(G_OBJECT(client), kSessionRemoteKey, g_strdup(remote.c_str()), g_free);
    listener->NotifySession({true, context->uri->abspath, remote});
  }
}

void RtspListener::OnClientClosed(GstRTSPClient* client, gpointer self) {
  auto* listener = static_cast<RtspListener*>(self);
  listener->clients_.fetch_sub(1);
  const auto* path =
      static_cast<const gchar*>(g_object_get_data(G_OBJECT(client), kSessionPathKey));
  const auto* remote =
      static_cast<const gchar*>(g_object_get_data(G_OBJECT(client), kSessionRemoteKey));
  if (path != nullptr) listener->NotifySession({false, path, remote != nullptr ? remote : ""});
}

}  // namespace rtsptest::core
