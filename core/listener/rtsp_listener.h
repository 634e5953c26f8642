// RtspListener: one RTSP port, served by its own gst-rtsp-server instance on
// its own GLib main loop thread.
//
// Why a thread per listener: a stalled or crashed loop must take down only its
// own port, so that the k-of-n health rule sees exactly what a client sees.
// The media (pipelines) are not owned here: factories are shared across
// listeners (see core/media), so one pipeline serves every port.
#ifndef RTSPTEST_CORE_LISTENER_RTSP_LISTENER_H_
#define RTSPTEST_CORE_LISTENER_RTSP_LISTENER_H_

#include <gst/rtsp-server/rtsp-server.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/listener/connection_acceptor.h"
#include "core/listener/rtsp_faults.h"
#include "core/listener/stalled_reader_reaper.h"

namespace rtsptest::core {

// The two moments of a PLAY that a listener reports.
enum class PlayPhase {
  kActivating,  // gst-rtsp-server's "pre-play-request": transports not yet active
  kPlaying,     // its "play-request": transports active, answer sent
  kAbandoned,   // after kActivating, answered with an error: nothing activated
};

// One reader's RTSP session on one stream, as ListSessions() reports it.
struct SessionInfo {
  std::string id;           // the RTSP session id
  std::string path;         // the stream's mount path, e.g. "/cam" (no track suffix)
  std::string remote;       // "ip:port" of the reader's RTSP connection
  std::string transport;    // "tcp" (interleaved), "udp" or "udp-multicast"
  absl::Time since;         // when its first PLAY took effect
  uint64_t bytes_sent = 0;  // RTP bytes handed to this reader, all tracks
  uint64_t packets_sent = 0;
};

// Which sessions KickSessions() closes.
struct KickSelector {
  enum class Kind { kAll, kPath, kSessionId };
  Kind kind = Kind::kAll;
  std::string value;  // the mount path (kPath) or session id (kSessionId)

  static KickSelector All() { return {Kind::kAll, ""}; }
  static KickSelector Path(std::string path) { return {Kind::kPath, std::move(path)}; }
  static KickSelector SessionId(std::string id) { return {Kind::kSessionId, std::move(id)}; }
};

// Faults of the listening port itself.
enum class ListenerFaultKind {
  kClose,   // stop listening: connects are refused; stopping re-binds the port
  kStall,   // connects complete (kernel backlog) but nothing is accepted or answered
  kRefuse,  // every connection is accepted and reset at once (RST, ECONNRESET)
};

class RtspListener {
 public:
  RtspListener(std::string name, std::string bind_address, uint32_t port);
  ~RtspListener();

  RtspListener(const RtspListener&) = delete;
  RtspListener& operator=(const RtspListener&) = delete;

  // Binds the port and starts serving. On failure (port in use, bad address)
  // the listener stays down and the error says which address and port.
  absl::Status Start();
  // Stops accepting and serving, closes every client. Idempotent. Waits up
  // to 2 s for the closed clients' "closed" handlers (so that none runs on a
  // listener that is gone); a client whose sessions are all UDP may not say
  // "closed" at once, and then costs that wait.
  void Stop();

  const std::string& name() const { return name_; }
  const std::string& bind_address() const { return bind_address_; }
  uint32_t configured_port() const { return configured_port_; }
  // The port actually bound (differs from the configured one when that is 0);
  // 0 while down.
  uint32_t bound_port() const { return bound_port_.load(); }
  bool is_serving() const { return bound_port_.load() != 0; }
  // Why the listener is down ("" while serving).
  std::string last_error() const;

  // Sets the RTSP authentication of this port (shared by every listener;
  // per-stream permissions live on the factories). Takes its own reference.
  // Call before Start().
  void SetAuth(GstRTSPAuth* auth) { gst_rtsp_server_set_auth(server_, auth); }

  // Exposes `factory` at `path` on this port. Takes its own reference.
  void Mount(absl::string_view path, GstRTSPMediaFactory* factory);
  void Unmount(absl::string_view path);
  // Closes the connection of every client with a session on `media`, so
  // that its readers see their session end rather than a silent stream.
  // Returns how many were closed. Safe from any thread.
  int CloseReadersOf(GstRTSPMedia* media);

  // At most `max` RTSP connections open at once on this port; one more is
  // answered 503 and closed (see ConnectionAcceptor). <= 0: no limit (the
  // default). Safe from any thread; applies to connections accepted next.
  void SetMaxConnections(int max) { acceptor_.set_max_connections(max); }
  int max_connections() const { return acceptor_.max_connections(); }
  // Connections refused for the limit; connections closed because a request
  // broke the request limits (request_framer.h); failed accepts (e.g. out of
  // descriptors). Totals since start.
  int64_t refused_over_limit() const { return acceptor_.refused_over_limit(); }
  int64_t requests_over_limits() const { return acceptor_.requests_over_limits(); }
  int64_t accept_failures() const { return acceptor_.accept_failures(); }
  // Readers closed because they stopped reading, and connections closed
  // for silence with no session (StalledReaderReaper).
  int64_t stalled_readers_dropped() const { return reaper_.dropped(); }
  int64_t idle_connections_closed() const { return reaper_.idle_closed(); }
  // How long a connection with no session may send nothing before it is
  // closed. Default 60 s (the session timeout). Safe from any thread.
  void SetIdleTimeout(absl::Duration idle) { reaper_.set_idle(idle); }
  // Number of RTSP connections currently open on this port.
  int connected_clients() const { return clients_.load(); }
  // Total RTSP connections accepted since start.
  int64_t accepted_clients() const { return accepted_.load(); }

  // Called on the client's thread with the URL path and the context of every
  // PLAY request, twice: before and after it activates the reader's
  // transports (the media's lock is held both times). Set before Start().
  using PlayObserver =
      std::function<void(PlayPhase phase, absl::string_view path, GstRTSPContext* context)>;
  void SetPlayObserver(PlayObserver observer) { play_observer_ = std::move(observer); }

  // A reader's session: opened when its first PLAY of `path` has activated
  // its transports, closed when its connection closes. Called on the
  // client's thread; `remote` is the client's IP address. Safe to set at any
  // time.
  struct SessionEvent {
    bool opened = false;
    std::string path;
    std::string remote;
  };
  using SessionObserver = std::function<void(const SessionEvent&)>;
  void SetSessionObserver(SessionObserver observer) ABSL_LOCKS_EXCLUDED(mutex_);

  // The sessions of this port that have a transport and have played, with
  // the RTP sent to each so far. Safe from any thread (not from inside the
  // observers above).
  std::vector<SessionInfo> ListSessions() const;
  // Closes the RTSP connection of every client with a played session that
  // `selector` matches (as CloseReadersOf does; other sessions on the same
  // connection end with it) and removes those sessions from the session pool
  // (a UDP session would otherwise outlive its connection). Returns how many
  // sessions (as ListSessions counts them) matched. Safe from any thread.
  int KickSessions(const KickSelector& selector);

  // RTSP faults on this port's streams (see RtspFault). kError answers the
  // request with the status at once. kDelay makes the client's thread wait
  // `delay` before gst-rtsp-server handles the request, holding no lock, so
  // other readers of the stream (on any port) are not held back; while a
  // delay fault is set, each new client gets a thread of its own, so that
  // the wait holds back no other client either (clients connected before,
  // beyond the kClientThreads that share threads, may share one with it).
  // Several faults may be active. Safe from any thread; they apply to
  // requests that arrive from then on. InvalidArgument as RtspFaults::Set
  // says (the fault is not set then).
  absl::Status SetRtspFault(const std::string& fault_id, RtspFault fault);
  // Removes one fault; the others stay. Requests already waiting finish
  // their wait.
  void ClearRtspFault(const std::string& fault_id);

  // Starts a fault of the listening port; see ListenerFaultKind. Open-ended
  // until StopListenerFault(kind). Existing connections and sessions are not
  // touched by any kind. FailedPrecondition when `kind` is already active or
  // the listener is not serving; for kClose, what re-binding said if the
  // port cannot be taken back on stop is logged and kept in last_error().
  absl::Status StartListenerFault(ListenerFaultKind kind) ABSL_LOCKS_EXCLUDED(mutex_);
  // Ends `kind` (no-op when it is not active).
  void StopListenerFault(ListenerFaultKind kind) ABSL_LOCKS_EXCLUDED(mutex_);

  // Stops accepting new connections but keeps existing ones (drain).
  void CloseListeningSocket();
  // Test hook: re-binds the same port after CloseListeningSocket().
  absl::Status ReopenListeningSocket();
  // Test hook: blocks this listener's loop for `duration`, so that it accepts
  // TCP connections (the kernel does) but never answers RTSP.
  void StallLoopFor(absl::Duration duration);

 private:
  static void OnClientConnected(GstRTSPServer* server, GstRTSPClient* client, gpointer self);
  static void OnClientClosed(GstRTSPClient* client, gpointer self);
  static GstRTSPStatusCode OnPrePlayRequest(GstRTSPClient* client, GstRTSPContext* context,
                                            gpointer self);
  static void OnPlayRequest(GstRTSPClient* client, GstRTSPContext* context, gpointer self);
  static void OnSetupRequest(GstRTSPClient* client, GstRTSPContext* context, gpointer self);
  static void OnSendMessage(GstRTSPClient* client, GstRTSPContext* context, GstRTSPMessage* message,
                            gpointer self);
  absl::Status AttachListeningSource();
  static gboolean OnListenReadable(GSocket* socket, GIOCondition condition, gpointer self);
  void CancelAcceptBackOffLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Replaces the listening source by the one the active listener faults call
  // for (none while stalled). No-op while the socket is closed.
  void InstallListeningSourceLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The same, done on the loop thread; call without mutex_ held.
  void ReinstallListeningSource() ABSL_LOCKS_EXCLUDED(mutex_);
  // Own threads for new clients while a delay fault is set, shared ones
  // (kClientThreads) otherwise.
  void UpdateClientThreads();
  void RunLoop();

  const std::string name_;
  const std::string bind_address_;
  const uint32_t configured_port_;

  GstRTSPServer* server_ = nullptr;       // owned
  ConnectionAcceptor acceptor_;           // on the loop thread
  StalledReaderReaper reaper_;            // on the loop thread, once a second
  GstRTSPMountPoints* mounts_ = nullptr;  // owned
  GMainContext* context_ = nullptr;       // owned
  GMainLoop* loop_ = nullptr;             // owned
  std::thread thread_;

  mutable absl::Mutex mutex_;
  // The listening socket is ours (not gst-rtsp-server's), so that closing it
  // takes effect at once, even while the loop thread is mid-accept and GLib
  // still holds the source.
  GSocket* listen_socket_ ABSL_GUARDED_BY(mutex_) = nullptr;      // owned
  GSource* listen_source_ ABSL_GUARDED_BY(mutex_) = nullptr;      // owned
  GSource* session_gc_source_ ABSL_GUARDED_BY(mutex_) = nullptr;  // owned
  // While out of descriptors: re-installs the listening source when due.
  GSource* back_off_source_ ABSL_GUARDED_BY(mutex_) = nullptr;  // owned
  GSource* reaper_source_ ABSL_GUARDED_BY(mutex_) = nullptr;    // owned
  std::string last_error_ ABSL_GUARDED_BY(mutex_);
  bool stall_active_ ABSL_GUARDED_BY(mutex_) = false;
  bool refuse_active_ ABSL_GUARDED_BY(mutex_) = false;
  bool close_active_ ABSL_GUARDED_BY(mutex_) = false;
  void NotifySession(const SessionEvent& event) ABSL_LOCKS_EXCLUDED(mutex_);

  // Shared with every client (object data), so that a request still being
  // handled when the listener goes away finds it.
  const std::shared_ptr<RtspFaults> faults_ = std::make_shared<RtspFaults>();
  PlayObserver play_observer_;
  SessionObserver session_observer_ ABSL_GUARDED_BY(mutex_);
  std::atomic<uint32_t> bound_port_{0};
  std::atomic<int> clients_{0};
  std::atomic<int64_t> accepted_{0};
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_LISTENER_RTSP_LISTENER_H_
