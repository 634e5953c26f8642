// RtspListener: gst-rtsp-server on a dedicated GLib main loop thread.
#include "core/listener/rtsp_listener.h"

#include <gio/gio.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/log/log.h"
#include "core/glib/gst_ptr.h"
#include "core/listener/batched_output.h"
#include "core/listener/session_ids.h"
#include "core/listener/transport_counter.h"

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
// The lowest client_port a UDP reader may ask for: below it are privileged
// (system) ports, and 0 is no port at all.
constexpr int kMinClientPort = 1024;
// How long Stop() waits for closed clients to finish their "closed" handlers.
// gst-rtsp-server does not say "closed" at once for a client whose sessions
// are all UDP (they outlive the connection), so this bounds Stop() then.
constexpr absl::Duration kClientCloseTimeout = absl::Seconds(2);

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

// --- RTSP faults -------------------------------------------------------------

// The listener's fault table, kept on each client (object data) so that a
// request being handled while the listener goes away still finds it.
constexpr char kFaultsKey[] = "rts-faults";

RtspFaults* FaultsOf(GstRTSPClient* client) {
  auto* faults =
      static_cast<std::shared_ptr<RtspFaults>*>(g_object_get_data(G_OBJECT(client), kFaultsKey));
  return faults != nullptr ? faults->get() : nullptr;
}

// The mount path that `abspath` falls under ("/cam" for "/cam/stream=0"), as
// gst-rtsp-server itself matches it; `abspath` when nothing is mounted there.
std::string MountPathOf(GstRTSPClient* client, const char* abspath) {
  std::string path = abspath != nullptr ? abspath : "";
  GstRTSPMountPoints* mounts = gst_rtsp_client_get_mount_points(client);
  if (mounts == nullptr) return path;
  gint matched = 0;
  GstRTSPMediaFactory* factory = gst_rtsp_mount_points_match(mounts, path.c_str(), &matched);
  g_object_unref(mounts);
  if (factory == nullptr) return path;
  g_object_unref(factory);
  return path.substr(0, static_cast<size_t>(matched));
}

RtspFaultAction LookupFault(GstRTSPClient* client, const GstRTSPUrl* uri, GstRTSPMethod method) {
  RtspFaults* faults = FaultsOf(client);
  if (faults == nullptr || uri == nullptr) return {};
  return faults->Lookup(MountPathOf(client, uri->abspath), method);
}

// "pre-describe-request", "pre-setup-request", "pre-play-request": an error
// fault answers the request with its status (the accumulator stops there).
// DESCRIBE's delay is waited here, where gst-rtsp-server holds no lock yet;
// SETUP's and PLAY's pre-signals run with the media locked, so their delay is
// waited earlier (DelayingClient below).
//
// A delay blocks the client's thread (the handlers are synchronous; a nested
// main loop is no way out: GstRTSPWatch's read source is a child source, and
// GLib would dispatch the watch again while its child is in call). So while
// a delay fault is set, new clients get threads of their own
// (RtspListener::UpdateClientThreads).
GstRTSPStatusCode AnswerFault(GstRTSPClient* client, GstRTSPContext* context, gpointer method) {
  const auto rtsp_method = static_cast<GstRTSPMethod>(GPOINTER_TO_INT(method));
  RtspFaultAction action = LookupFault(client, context->uri, rtsp_method);
  if (action.status_code != 0) return static_cast<GstRTSPStatusCode>(action.status_code);
  if (rtsp_method == GST_RTSP_DESCRIBE && action.delay > absl::ZeroDuration()) {
    absl::SleepFor(action.delay);
  }
  return GST_RTSP_STS_OK;
}

// --- Session ownership -------------------------------------------------------
//
// gst-rtsp-server finds a request's Session in the pool shared by every
// connection of the port, so another connection naming a session id could
// pause, tear down or re-play someone else's stream. Each session is bound
// to the client that created it ("new-session"); a request naming it from
// any other client is answered 454 by the pre-request signals, before the
// handler changes anything.
//
// Ids, not client pointers: a session may outlive its client (UDP), and a
// new client may be allocated at the old one's address.
constexpr char kClientIdKey[] = "rts-client-id";
constexpr char kSessionOwnerKey[] = "rts-session-owner";
std::atomic<uintptr_t> next_client_id{1};

void BindSessionToClient(GstRTSPClient* client, GstRTSPSession* session, gpointer) {
  g_object_set_data(G_OBJECT(session), kSessionOwnerKey,
                    g_object_get_data(G_OBJECT(client), kClientIdKey));
}

bool IsForeignSession(GstRTSPClient* client, GstRTSPSession* session) {
  return session != nullptr && g_object_get_data(G_OBJECT(session), kSessionOwnerKey) !=
                                   g_object_get_data(G_OBJECT(client), kClientIdKey);
}

GstRTSPStatusCode RefuseForeignSession(GstRTSPClient* client, GstRTSPContext* context, gpointer) {
  return IsForeignSession(client, context->session) ? GST_RTSP_STS_SESSION_NOT_FOUND
                                                    : GST_RTSP_STS_OK;
}

// A session bound to a client whose connection closed can never be named
// again: it is removed from the pool then, rather than at its timeout, so
// that its UDP media stops with the connection.
GstRTSPFilterResult RemoveIfOwnedBy(GstRTSPSessionPool*, GstRTSPSession* session, gpointer owner) {
  return g_object_get_data(G_OBJECT(session), kSessionOwnerKey) == owner ? GST_RTSP_FILTER_REMOVE
                                                                         : GST_RTSP_FILTER_KEEP;
}

void EndSessionsOf(GstRTSPClient* client) {
  GstRTSPSessionPool* pool = gst_rtsp_client_get_session_pool(client);
  if (pool == nullptr) return;
  gst_rtsp_session_pool_filter(pool, &RemoveIfOwnedBy,
                               g_object_get_data(G_OBJECT(client), kClientIdKey));
  g_object_unref(pool);
}

// gst-rtsp-server adds every session a request names to the client's own
// list before any signal runs, and when that client's connection ends it
// stops the media of the sessions in its list. So a foreign session is taken
// off the list again when the answer goes out ("send-message": every request
// is answered on the client's thread before its connection can be cleaned
// up there, and gst-rtsp-server holds no client lock then). REMOVE unwatches
// it without touching its media as long as the client's drop-backlog is TRUE
// (the default, never changed here).
GstRTSPFilterResult UnwatchForeignSession(GstRTSPClient* client, GstRTSPSession* session,
                                          gpointer) {
  return IsForeignSession(client, session) ? GST_RTSP_FILTER_REMOVE : GST_RTSP_FILTER_KEEP;
}

// --- UDP transports ------------------------------------------------------------

// True when `destination` is the address of the client's own connection.
bool IsConnectionAddress(GstRTSPClient* client, const char* destination) {
  GstRTSPConnection* connection = gst_rtsp_client_get_connection(client);
  const gchar* ip = connection != nullptr ? gst_rtsp_connection_get_ip(connection) : nullptr;
  if (ip == nullptr) return false;
  GInetAddress* own = g_inet_address_new_from_string(ip);
  GInetAddress* asked = g_inet_address_new_from_string(destination);
  const bool same = own != nullptr && asked != nullptr && g_inet_address_equal(own, asked);
  if (own != nullptr) g_object_unref(own);
  if (asked != nullptr) g_object_unref(asked);
  return same;
}

// A GstRTSPClient whose SETUP and PLAY can be held back by a delay fault.
// make_path_from_uri is the first thing gst-rtsp-server does for SETUP and
// PLAY, before it locks the media: waiting there holds back only this
// request, never other readers of the same stream (on this or another port).
struct DelayingClient {
  GstRTSPClient parent;
};
struct DelayingClientClass {
  GstRTSPClientClass parent_class;
};
G_DEFINE_TYPE(DelayingClient, delaying_client, GST_TYPE_RTSP_CLIENT)

gchar* MakePathAfterDelay(GstRTSPClient* client, const GstRTSPUrl* uri) {
  GstRTSPContext* context = gst_rtsp_context_get_current();
  if (context != nullptr &&
      (context->method == GST_RTSP_SETUP || context->method == GST_RTSP_PLAY)) {
    RtspFaultAction action = LookupFault(client, uri, context->method);
    // An error fault is answered by the pre-signal; no wait before it.
    if (action.status_code == 0 && action.delay > absl::ZeroDuration()) {
      absl::SleepFor(action.delay);
    }
  }
  return GST_RTSP_CLIENT_CLASS(delaying_client_parent_class)->make_path_from_uri(client, uri);
}

// Unicast UDP is sent only to the reader's own address, on a port that is
// not privileged. gst-rtsp-server would silently replace a destination=
// with the connection's address and answer 200; a reader (or an attacker
// aiming the stream at a third host) must instead learn that it was not
// honoured: false makes gst-rtsp-server answer 461 Unsupported Transport.
// Multicast is left to gst-rtsp-server (its address pool decides).
gboolean ConfigureUdpStrictly(GstRTSPClient* client, GstRTSPContext* context,
                              GstRTSPTransport* transport) {
  if (transport->lower_transport == GST_RTSP_LOWER_TRANS_UDP) {
    if (transport->destination != nullptr && !IsConnectionAddress(client, transport->destination)) {
      return FALSE;
    }
    if (transport->client_port.min < kMinClientPort ||
        transport->client_port.max < kMinClientPort) {
      return FALSE;
    }
  }
  return GST_RTSP_CLIENT_CLASS(delaying_client_parent_class)
      ->configure_client_transport(client, context, transport);
}

void delaying_client_class_init(DelayingClientClass* klass) {
  GST_RTSP_CLIENT_CLASS(klass)->make_path_from_uri = &MakePathAfterDelay;
  GST_RTSP_CLIENT_CLASS(klass)->configure_client_transport = &ConfigureUdpStrictly;
}
void delaying_client_init(DelayingClient*) {}

// A GstRTSPServer that makes DelayingClients, set up as gst-rtsp-server's
// default_create_client sets up its own.
struct FaultableServer {
  GstRTSPServer parent;
};
struct FaultableServerClass {
  GstRTSPServerClass parent_class;
};
G_DEFINE_TYPE(FaultableServer, faultable_server, GST_TYPE_RTSP_SERVER)

GstRTSPClient* CreateDelayingClient(GstRTSPServer* server) {
  auto* client = GST_RTSP_CLIENT(g_object_new(delaying_client_get_type(), nullptr));
  GstRTSPSessionPool* pool = gst_rtsp_server_get_session_pool(server);
  gst_rtsp_client_set_session_pool(client, pool);
  if (pool != nullptr) g_object_unref(pool);
  GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server);
  gst_rtsp_client_set_mount_points(client, mounts);
  if (mounts != nullptr) g_object_unref(mounts);
  gst_rtsp_client_set_content_length_limit(client,
                                           gst_rtsp_server_get_content_length_limit(server));
  GstRTSPAuth* auth = gst_rtsp_server_get_auth(server);
  gst_rtsp_client_set_auth(client, auth);
  if (auth != nullptr) g_object_unref(auth);
  GstRTSPThreadPool* threads = gst_rtsp_server_get_thread_pool(server);
  gst_rtsp_client_set_thread_pool(client, threads);
  if (threads != nullptr) g_object_unref(threads);
  return client;
}

void faultable_server_class_init(FaultableServerClass* klass) {
  GST_RTSP_SERVER_CLASS(klass)->create_client = &CreateDelayingClient;
}
void faultable_server_init(FaultableServer*) {}

// --- Listener faults ---------------------------------------------------------

const char* ListenerFaultName(ListenerFaultKind kind) {
  switch (kind) {
    case ListenerFaultKind::kClose:
      return "close";
    case ListenerFaultKind::kStall:
      return "stall";
    case ListenerFaultKind::kRefuse:
      return "refuse";
  }
  return "?";
}

// The listening source's callback during a kRefuse fault: accepts every
// pending connection and resets it (SO_LINGER 0, then close sends RST).
gboolean ResetConnections(GSocket* socket, GIOCondition, gpointer) {
  while (GSocket* connection = g_socket_accept(socket, nullptr, nullptr)) {
    linger reset{1, 0};
    setsockopt(g_socket_get_fd(connection), SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    g_socket_close(connection, nullptr);
    g_object_unref(connection);
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace

RtspListener::RtspListener(std::string name, std::string bind_address, uint32_t port)
    : name_(std::move(name)),
      bind_address_(std::move(bind_address)),
      configured_port_(port),
      server_(GST_RTSP_SERVER(g_object_new(faultable_server_get_type(), nullptr))),
      acceptor_(name_, server_, [this] { return clients_.load(); }),
      reaper_(name_) {
  // gst-rtsp-server's default accept backlog is 5: a burst of readers (a
  // load test, a fleet of clients reconnecting after a blip) then waits out
  // SYN retransmits of 1, 3, 7 s. The kernel caps this at somaxconn.
  gst_rtsp_server_set_backlog(server_, kListenBacklog);
  GstRTSPSessionPool* sessions = NewAlphanumericSessionPool();
  gst_rtsp_server_set_session_pool(server_, sessions);
  g_object_unref(sessions);
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
  uint32_t bound = port;
  if (GSocketAddress* local = g_socket_get_local_address(socket, nullptr)) {
    bound = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
    g_object_unref(local);
  }
  absl::MutexLock lock(&mutex_);
  listen_socket_ = socket;
  InstallListeningSourceLocked();
  last_error_.clear();
  bound_port_.store(bound);
  return absl::OkStatus();
}

void RtspListener::ReinstallListeningSource() {
  // On the loop thread, between two dispatches: once this returns, no
  // callback of the old source runs any more (a refusing one may otherwise
  // still be accepting and resetting connections after a stop).
  RunOnContext(context_, [this] {
    absl::MutexLock lock(&mutex_);
    InstallListeningSourceLocked();
  });
}

void RtspListener::InstallListeningSourceLocked() {
  if (listen_source_ != nullptr) {
    g_source_destroy(listen_source_);
    g_source_unref(listen_source_);
    listen_source_ = nullptr;
  }
  CancelAcceptBackOffLocked();
  // Stalled: nothing watches the socket, so the kernel completes handshakes
  // into the backlog and nobody accepts them until the stall ends.
  if (listen_socket_ == nullptr || stall_active_) return;
  GSource* source = g_socket_create_source(
      listen_socket_, static_cast<GIOCondition>(G_IO_IN | G_IO_ERR | G_IO_HUP | G_IO_NVAL),
      nullptr);
  if (refuse_active_) {
    g_source_set_callback(source, reinterpret_cast<GSourceFunc>(&ResetConnections), nullptr,
                          nullptr);
  } else {
    g_source_set_callback(source, reinterpret_cast<GSourceFunc>(&RtspListener::OnListenReadable),
                          this, nullptr);
  }
  g_source_attach(source, context_);
  listen_source_ = source;
}

void RtspListener::CancelAcceptBackOffLocked() {
  if (back_off_source_ == nullptr) return;
  g_source_destroy(back_off_source_);
  g_source_unref(back_off_source_);
  back_off_source_ = nullptr;
}

gboolean RtspListener::OnListenReadable(GSocket* socket, GIOCondition, gpointer self) {
  auto* listener = static_cast<RtspListener*>(self);
  const absl::Duration back_off = listener->acceptor_.AcceptPending(socket);
  if (back_off == absl::ZeroDuration()) return G_SOURCE_CONTINUE;
  // Out of descriptors: the socket stays readable, so stop watching it for
  // a while rather than spin.
  absl::MutexLock lock(&listener->mutex_);
  if (listener->listen_source_ == nullptr) return G_SOURCE_REMOVE;
  g_source_unref(std::exchange(listener->listen_source_, nullptr));
  listener->back_off_source_ = g_timeout_source_new(absl::ToInt64Milliseconds(back_off));
  g_source_set_callback(
      listener->back_off_source_,
      [](gpointer data) -> gboolean {
        auto* listener = static_cast<RtspListener*>(data);
        absl::MutexLock lock(&listener->mutex_);
        g_source_unref(std::exchange(listener->back_off_source_, nullptr));
        if (listener->listen_socket_ != nullptr && listener->listen_source_ == nullptr) {
          listener->InstallListeningSourceLocked();
        }
        return G_SOURCE_REMOVE;
      },
      listener, nullptr);
  g_source_attach(listener->back_off_source_, listener->context_);
  return G_SOURCE_REMOVE;
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
    reaper_source_ = g_timeout_source_new_seconds(1);
    g_source_set_callback(
        reaper_source_,
        [](gpointer self) -> gboolean {
          auto* listener = static_cast<RtspListener*>(self);
          const absl::Time now = absl::Now();
          listener->reaper_.Sweep(listener->server_, now);
          listener->acceptor_.FlushLogs(now);
          return G_SOURCE_CONTINUE;
        },
        this, nullptr);
    g_source_attach(reaper_source_, context_);
  }
  thread_ = std::thread([this] { RunLoop(); });
  common::Log(common::LogLevel::kInfo, "listener serving",
              {{"listener", name_},
               {"address", bind_address_},
               {"port", bound_port()},
               {"max_connections", max_connections()}});
  return absl::OkStatus();
}

void RtspListener::CloseListeningSocket() {
  GSource* source;
  GSocket* socket;
  {
    absl::MutexLock lock(&mutex_);
    source = std::exchange(listen_source_, nullptr);
    socket = std::exchange(listen_socket_, nullptr);
    CancelAcceptBackOffLocked();
    last_error_ = "listening socket closed";
  }
  if (source != nullptr) {
    g_source_destroy(source);
    g_source_unref(source);
  }
  if (socket == nullptr) return;
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
    if (listen_socket_ != nullptr) return absl::OkStatus();
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
        for (GSource** source : {&session_gc_source_, &reaper_source_}) {
          if (*source == nullptr) continue;
          g_source_destroy(*source);
          g_source_unref(std::exchange(*source, nullptr));
        }
      }
      // Closes every client connection of this server.
      gst_rtsp_server_client_filter(
          server_, [](GstRTSPServer*, GstRTSPClient*, gpointer) { return GST_RTSP_FILTER_REMOVE; },
          nullptr);
    });
    // Each client says "closed" later, on its own thread, to handlers that
    // point at this listener: wait for them, so that none runs on a listener
    // that is gone; then cut off any client still not done.
    {
      absl::MutexLock lock(&mutex_);
      auto all_closed = [this] { return clients_.load() == 0; };
      mutex_.AwaitWithTimeout(absl::Condition(&all_closed), kClientCloseTimeout);
    }
    gst_rtsp_server_client_filter(
        server_,
        [](GstRTSPServer*, GstRTSPClient* client, gpointer self) {
          g_signal_handlers_disconnect_by_data(client, self);
          return GST_RTSP_FILTER_KEEP;
        },
        this);
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

// Calls `change` on every transport of the request's session media.
void ForEachTransport(GstRTSPContext* context, void (*change)(GstRTSPStreamTransport*)) {
  if (context == nullptr || context->sessmedia == nullptr) return;
  GPtrArray* transports = gst_rtsp_session_media_get_transports(context->sessmedia);
  if (transports == nullptr) return;
  for (guint i = 0; i < transports->len; ++i) {
    change(static_cast<GstRTSPStreamTransport*>(g_ptr_array_index(transports, i)));
  }
  g_ptr_array_unref(transports);
}

// "pre-pause-request", "pre-teardown-request": the readers leave their
// fan-outs (transport_counter.h).
GstRTSPStatusCode LeaveFanOuts(GstRTSPClient*, GstRTSPContext* context, gpointer) {
  ForEachTransport(context, &LeaveFanOut);
  return GST_RTSP_STS_OK;
}

// "pre-play-request": gst-rtsp-server finds the transports in their streams.
GstRTSPStatusCode RelistTransports(GstRTSPClient*, GstRTSPContext* context, gpointer) {
  ForEachTransport(context, &RelistTransport);
  return GST_RTSP_STS_OK;
}

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

// "ip:port" of the client's RTSP connection, "" when unknown.
std::string RemoteEndpoint(GstRTSPClient* client) {
  GstRTSPConnection* connection = gst_rtsp_client_get_connection(client);
  if (connection == nullptr) return "";
  const gchar* ip = gst_rtsp_connection_get_ip(connection);
  std::string endpoint = ip != nullptr ? ip : "";
  GSocket* socket = gst_rtsp_connection_get_read_socket(connection);
  GSocketAddress* remote =
      socket != nullptr ? g_socket_get_remote_address(socket, nullptr) : nullptr;
  if (remote != nullptr) {
    if (G_IS_INET_SOCKET_ADDRESS(remote)) {
      absl::StrAppend(&endpoint, ":",
                      g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(remote)));
    }
    g_object_unref(remote);
  }
  return endpoint;
}

constexpr char kClientRemoteKey[] = "rts-client-remote";
// On a GstRTSPSessionMedia once its first PLAY took effect: the mount path
// played and when (an absl::Time).
constexpr char kPlayedPathKey[] = "rts-played-path";
constexpr char kPlayedSinceKey[] = "rts-played-since";

const char* TransportName(GstRTSPLowerTrans lower) {
  switch (lower) {
    case GST_RTSP_LOWER_TRANS_TCP:
      return "tcp";
    case GST_RTSP_LOWER_TRANS_UDP_MCAST:
      return "udp-multicast";
    default:
      return "udp";
  }
}

// The played sessions of one client, one SessionInfo per (session, stream).
struct SessionSearch {
  std::string remote;
  std::vector<SessionInfo> found;
};

GstRTSPFilterResult CollectSessionMedia(GstRTSPSession* session, GstRTSPSessionMedia* media,
                                        gpointer data) {
  auto* search = static_cast<SessionSearch*>(data);
  const auto* path = static_cast<const gchar*>(g_object_get_data(G_OBJECT(media), kPlayedPathKey));
  const auto* since =
      static_cast<const absl::Time*>(g_object_get_data(G_OBJECT(media), kPlayedSinceKey));
  if (path == nullptr || since == nullptr) return GST_RTSP_FILTER_KEEP;
  SessionInfo info;
  info.id = gst_rtsp_session_get_sessionid(session);
  info.path = path;
  info.remote = search->remote;
  info.since = *since;
  GPtrArray* transports = gst_rtsp_session_media_get_transports(media);
  for (guint i = 0; transports != nullptr && i < transports->len; ++i) {
    auto* transport = static_cast<GstRTSPStreamTransport*>(g_ptr_array_index(transports, i));
    if (transport == nullptr) continue;
    const GstRTSPTransport* t = gst_rtsp_stream_transport_get_transport(transport);
    if (t != nullptr && info.transport.empty()) info.transport = TransportName(t->lower_transport);
    RtpCounts counts = ReadTransportCounts(transport);
    info.bytes_sent += counts.bytes;
    info.packets_sent += counts.packets;
  }
  if (transports != nullptr) g_ptr_array_unref(transports);
  if (!info.transport.empty()) search->found.push_back(std::move(info));
  return GST_RTSP_FILTER_KEEP;
}

GstRTSPFilterResult CollectClientSession(GstRTSPClient*, GstRTSPSession* session, gpointer data) {
  gst_rtsp_session_filter(session, &CollectSessionMedia, data);
  return GST_RTSP_FILTER_KEEP;
}

std::vector<SessionInfo> SessionsOf(GstRTSPClient* client) {
  SessionSearch search;
  const auto* remote =
      static_cast<const gchar*>(g_object_get_data(G_OBJECT(client), kClientRemoteKey));
  search.remote = remote != nullptr ? remote : "";
  gst_rtsp_client_session_filter(client, &CollectClientSession, &search);
  return std::move(search.found);
}

struct ListSearch {
  std::vector<SessionInfo> sessions;
};

GstRTSPFilterResult ListClient(GstRTSPServer*, GstRTSPClient* client, gpointer data) {
  for (SessionInfo& info : SessionsOf(client)) {
    static_cast<ListSearch*>(data)->sessions.push_back(std::move(info));
  }
  return GST_RTSP_FILTER_KEEP;
}

struct KickSearch {
  const KickSelector* selector;
  int closed = 0;
  std::vector<std::string> session_ids;  // of the sessions to end
};

// Runs with the server locked; REMOVE makes gst-rtsp-server close the client
// after unlocking it, as CloseIfReading does.
GstRTSPFilterResult KickIfSelected(GstRTSPServer*, GstRTSPClient* client, gpointer data) {
  auto* kick = static_cast<KickSearch*>(data);
  int matched = 0;
  for (const SessionInfo& info : SessionsOf(client)) {
    bool selected = false;
    switch (kick->selector->kind) {
      case KickSelector::Kind::kAll:
        selected = true;
        break;
      case KickSelector::Kind::kPath:
        selected = info.path == kick->selector->value;
        break;
      case KickSelector::Kind::kSessionId:
        selected = info.id == kick->selector->value;
        break;
    }
    if (!selected) continue;
    ++matched;
    kick->session_ids.push_back(info.id);
  }
  if (matched == 0) return GST_RTSP_FILTER_KEEP;
  kick->closed += matched;
  return GST_RTSP_FILTER_REMOVE;
}

}  // namespace

absl::Status RtspListener::SetRtspFault(const std::string& fault_id, RtspFault fault) {
  absl::Status status = faults_->Set(fault_id, std::move(fault));
  UpdateClientThreads();
  return status;
}

void RtspListener::ClearRtspFault(const std::string& fault_id) {
  faults_->Clear(fault_id);
  UpdateClientThreads();
}

void RtspListener::UpdateClientThreads() {
  GstRTSPThreadPool* pool = gst_rtsp_server_get_thread_pool(server_);
  // -1: no limit, every new client gets a new thread; existing clients keep
  // theirs. Back at the limit, new clients share the existing threads again.
  gst_rtsp_thread_pool_set_max_threads(pool, faults_->HasDelay() ? -1 : kClientThreads);
  g_object_unref(pool);
}

std::vector<SessionInfo> RtspListener::ListSessions() const {
  ListSearch search;
  gst_rtsp_server_client_filter(server_, &ListClient, &search);
  return std::move(search.sessions);
}

int RtspListener::KickSessions(const KickSelector& selector) {
  KickSearch kick{&selector};
  gst_rtsp_server_client_filter(server_, &KickIfSelected, &kick);
  // Closing the connection ends a TCP session. A session whose transports are
  // all UDP outlives its connection in gst-rtsp-server: its media stop only if
  // the media is stop-on-disconnect (the default), and the session itself
  // stays in the pool until it times out. Removing it ends it in every case.
  GstRTSPSessionPool* pool = gst_rtsp_server_get_session_pool(server_);
  for (const std::string& id : kick.session_ids) {
    if (GstRTSPSession* session = gst_rtsp_session_pool_find(pool, id.c_str())) {
      gst_rtsp_session_pool_remove(pool, session);
      g_object_unref(session);
    }
  }
  g_object_unref(pool);
  return kick.closed;
}

absl::Status RtspListener::StartListenerFault(ListenerFaultKind kind) {
  if (!is_serving()) {
    return absl::FailedPreconditionError(absl::StrCat("listener ", name_, ": not serving"));
  }
  {
    absl::MutexLock lock(&mutex_);
    bool* active = kind == ListenerFaultKind::kClose   ? &close_active_
                   : kind == ListenerFaultKind::kStall ? &stall_active_
                                                       : &refuse_active_;
    if (*active) {
      return absl::FailedPreconditionError(absl::StrCat(
          "listener ", name_, ": listener fault ", ListenerFaultName(kind), " is already active"));
    }
    *active = true;
  }
  if (kind == ListenerFaultKind::kClose) {
    CloseListeningSocket();
  } else {
    ReinstallListeningSource();
  }
  return absl::OkStatus();
}

void RtspListener::StopListenerFault(ListenerFaultKind kind) {
  {
    absl::MutexLock lock(&mutex_);
    bool* active = kind == ListenerFaultKind::kClose   ? &close_active_
                   : kind == ListenerFaultKind::kStall ? &stall_active_
                                                       : &refuse_active_;
    if (!*active) return;
    *active = false;
  }
  if (kind != ListenerFaultKind::kClose) {
    ReinstallListeningSource();
    return;
  }
  absl::Status reopened = ReopenListeningSocket();
  if (!reopened.ok()) {
    common::Log(common::LogLevel::kError, "listener could not re-bind after a close fault",
                {{"listener", name_}, {"error", std::string(reopened.message())}});
  }
}

int RtspListener::CloseReadersOf(GstRTSPMedia* media) {
  CloseSearch close{media};
  gst_rtsp_server_client_filter(server_, &CloseIfReading, &close);
  return close.closed;
}

void RtspListener::OnClientConnected(GstRTSPServer*, GstRTSPClient* client, gpointer self) {
  auto* listener = static_cast<RtspListener*>(self);
  listener->clients_.fetch_add(1);
  listener->accepted_.fetch_add(1);
  // Fault handlers first: a request that a fault answers with an error is
  // not seen by the observers below.
  g_object_set_data_full(
      G_OBJECT(client), kFaultsKey, new std::shared_ptr<RtspFaults>(listener->faults_),
      [](gpointer data) { delete static_cast<std::shared_ptr<RtspFaults>*>(data); });
  g_object_set_data(G_OBJECT(client), kClientIdKey,
                    reinterpret_cast<gpointer>(next_client_id.fetch_add(1)));
  g_signal_connect(client, "new-session", G_CALLBACK(&BindSessionToClient), nullptr);
  for (const char* signal :
       {"pre-options-request", "pre-describe-request", "pre-setup-request", "pre-play-request",
        "pre-pause-request", "pre-teardown-request", "pre-get-parameter-request",
        "pre-set-parameter-request", "pre-announce-request", "pre-record-request"}) {
    g_signal_connect(client, signal, G_CALLBACK(&RefuseForeignSession), nullptr);
  }
  g_signal_connect(client, "pre-describe-request", G_CALLBACK(&AnswerFault),
                   GINT_TO_POINTER(GST_RTSP_DESCRIBE));
  g_signal_connect(client, "pre-setup-request", G_CALLBACK(&AnswerFault),
                   GINT_TO_POINTER(GST_RTSP_SETUP));
  g_signal_connect(client, "pre-play-request", G_CALLBACK(&AnswerFault),
                   GINT_TO_POINTER(GST_RTSP_PLAY));
  g_object_set_data_full(G_OBJECT(client), kClientRemoteKey,
                         g_strdup(RemoteEndpoint(client).c_str()), g_free);
  g_signal_connect(client, "closed", G_CALLBACK(&RtspListener::OnClientClosed), self);
  g_signal_connect(client, "pre-options-request", G_CALLBACK(&ListServedMethods), nullptr);
  g_signal_connect(client, "setup-request", G_CALLBACK(&RtspListener::OnSetupRequest), self);
  g_signal_connect(client, "pre-pause-request", G_CALLBACK(&LeaveFanOuts), nullptr);
  g_signal_connect(client, "pre-teardown-request", G_CALLBACK(&LeaveFanOuts), nullptr);
  g_signal_connect(client, "pre-play-request", G_CALLBACK(&RelistTransports), nullptr);
  g_signal_connect(client, "send-message", G_CALLBACK(&RtspListener::OnSendMessage), self);
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
// The context of the client's PLAY between "pre-play-request" and its
// answer or "play-request" (borrowed; only compared).
constexpr char kActivatingPlayKey[] = "rts-activating-play";

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

GstRTSPStatusCode RtspListener::OnPrePlayRequest(GstRTSPClient* client, GstRTSPContext* context,
                                                 gpointer self) {
  if (context != nullptr && context->uri != nullptr && context->uri->abspath != nullptr) {
    static_cast<RtspListener*>(self)->play_observer_(PlayPhase::kActivating, context->uri->abspath,
                                                     context);
    // Until "play-request", or until OnSendMessage sees an error answer.
    g_object_set_data(G_OBJECT(client), kActivatingPlayKey, context);
  }
  return GST_RTSP_STS_OK;
}

void RtspListener::OnPlayRequest(GstRTSPClient* client, GstRTSPContext* context, gpointer self) {
  g_object_set_data(G_OBJECT(client), kActivatingPlayKey, nullptr);
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

void RtspListener::OnSetupRequest(GstRTSPClient* client, GstRTSPContext* context, gpointer) {
  if (context == nullptr || context->trans == nullptr) return;
  GstRTSPConnection* connection = gst_rtsp_client_get_connection(client);
  GSocket* socket =
      connection != nullptr ? gst_rtsp_connection_get_write_socket(connection) : nullptr;
  CountTcpTransport(context->trans, client, socket != nullptr ? BatchedQueueOf(socket) : nullptr);
}

void RtspListener::OnSendMessage(GstRTSPClient* client, GstRTSPContext* context,
                                 GstRTSPMessage* message, gpointer self) {
  // Every answer (a 454 of RefuseForeignSession, or an earlier error such as
  // 404 that no pre-signal saw) ends a request that may have named a foreign
  // session; it must not stay in this client's list (UnwatchForeignSession).
  gst_rtsp_client_session_filter(client, &UnwatchForeignSession, nullptr);
  // A PLAY reported activating that is answered with an error never
  // reaches "play-request": report that it activated nothing.
  if (context != nullptr && message->type == GST_RTSP_MESSAGE_RESPONSE &&
      message->type_data.response.code != GST_RTSP_STS_OK &&
      g_object_get_data(G_OBJECT(client), kActivatingPlayKey) == context) {
    g_object_set_data(G_OBJECT(client), kActivatingPlayKey, nullptr);
    static_cast<RtspListener*>(self)->play_observer_(PlayPhase::kAbandoned, context->uri->abspath,
                                                     context);
  }
  // The answer to a PLAY that took effect (its transports are active), just
  // before it is sent: from the moment the reader sees it, it is listed.
  // ("play-request" comes only after the answer has gone out.)
  if (context == nullptr || context->method != GST_RTSP_PLAY || context->sessmedia == nullptr ||
      context->uri == nullptr || message->type != GST_RTSP_MESSAGE_RESPONSE ||
      message->type_data.response.code != GST_RTSP_STS_OK) {
    return;
  }
  GObject* media = G_OBJECT(context->sessmedia);
  if (g_object_get_data(media, kPlayedSinceKey) != nullptr) return;
  g_object_set_data_full(media, kPlayedPathKey,
                         g_strdup(MountPathOf(client, context->uri->abspath).c_str()), g_free);
  g_object_set_data_full(media, kPlayedSinceKey, new absl::Time(absl::Now()),
                         [](gpointer data) { delete static_cast<absl::Time*>(data); });
}

void RtspListener::OnClientClosed(GstRTSPClient* client, gpointer self) {
  auto* listener = static_cast<RtspListener*>(self);
  EndSessionsOf(client);
  const auto* path =
      static_cast<const gchar*>(g_object_get_data(G_OBJECT(client), kSessionPathKey));
  const auto* remote =
      static_cast<const gchar*>(g_object_get_data(G_OBJECT(client), kSessionRemoteKey));
  if (path != nullptr) listener->NotifySession({false, path, remote != nullptr ? remote : ""});
  // Last: Stop() waits for the count to reach 0 before the listener may go
  // away, so nothing of the listener is touched after this.
  absl::MutexLock lock(&listener->mutex_);
  listener->clients_.fetch_sub(1);
}

}  // namespace rtsptest::core
