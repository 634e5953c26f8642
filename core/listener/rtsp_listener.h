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
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace rtsptest::core {

// The two moments of a PLAY that a listener reports.
enum class PlayPhase {
  kActivating,  // gst-rtsp-server's "pre-play-request": transports not yet active
  kPlaying,     // its "play-request": transports active, answer sent
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
  // Stops accepting and serving, closes every client. Idempotent.
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
  absl::Status AttachListeningSource();
  void RunLoop();

  const std::string name_;
  const std::string bind_address_;
  const uint32_t configured_port_;

  GstRTSPServer* server_ = nullptr;       // owned
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
  std::string last_error_ ABSL_GUARDED_BY(mutex_);
  void NotifySession(const SessionEvent& event) ABSL_LOCKS_EXCLUDED(mutex_);

  PlayObserver play_observer_;
  SessionObserver session_observer_ ABSL_GUARDED_BY(mutex_);
  std::atomic<uint32_t> bound_port_{0};
  std::atomic<int> clients_{0};
  std::atomic<int64_t> accepted_{0};
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_LISTENER_RTSP_LISTENER_H_
