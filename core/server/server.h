// Server: the RTSP side of rtsp-test-server, assembled from a ServerConfig.
//
// It owns the plugin loader, one RtspListener per configured port and the
// stream manager. Start() is forgiving by design: a listener that cannot
// bind is logged and skipped, a stream whose plugin, parameters or pipeline
// are bad is logged and kept in state failed with its error (listed, with a
// NOT_SERVING health name), and everything else serves. Health (health/)
// reports what is actually up.
#ifndef RTSPTEST_CORE_SERVER_SERVER_H_
#define RTSPTEST_CORE_SERVER_SERVER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/listener/rtsp_listener.h"
#include "core/plugin_host/plugin_loader.h"
#include "core/rtsp_auth/stream_auth.h"
#include "core/stream/stream_manager.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::core {

// The plugin directories used when the config names none: $RTSP_TEST_PLUGIN_DIR
// is handled by the config layer; these are the install locations relative
// to the running binary (bazel-bin/plugins, the runfiles tree) and the
// system-wide /usr/lib/rtsp-test-server/plugins.
std::vector<std::string> DefaultPluginDirs();

// How long Start() waits for the configured streams, which it builds all at
// once. A stream that is not built by then goes on building in the
// background (listed as starting) and mounts, or turns failed, when done.
// Ten seconds: every healthy stream of this repository builds in well under
// a second, a plugin's create is itself bounded by 10 s (plugin.h), while a
// source that sends nothing holds gst-rtsp-server's preroll for 20 s, which
// start-up must not wait for.
inline constexpr absl::Duration kStreamStartWait = absl::Seconds(10);

class Server {
 public:
  explicit Server(config::v1::ServerConfig config,
                  absl::Duration stream_start_wait = kStreamStartWait);
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listeners, then builds and mounts every configured stream,
  // all streams at once, each on its own thread. Returns when all are built
  // or failed, when stream_start_wait has passed, or as soon as a stop
  // signal (SIGTERM, SIGINT, SIGQUIT) is pending: the process blocks those
  // and takes them with sigwait() only after start-up (app/main.cc), so
  // waiting on here would leave them unanswered. Streams not done by then
  // go on in the background. A stream that cannot be built is kept failed
  // (StreamManager, OnCreateFailure::kKeepFailed), with the same error
  // --check_config prints for it. Fails (FailedPrecondition) only when no
  // listener could bind at all. Call once.
  absl::Status Start();
  // Waits for the stream builds still running (each is bounded: the
  // plugin's create by its time-out, the first packets by the keeper's),
  // then closes every listener and releases every stream. Idempotent.
  void Stop();

  const config::v1::ServerConfig& config() const { return config_; }
  const std::vector<std::unique_ptr<RtspListener>>& listeners() const { return listeners_; }
  StreamManager& streams() { return *streams_; }
  const StreamManager& streams() const { return *streams_; }
  PluginLoader& plugins() { return *loader_; }

 private:
  const config::v1::ServerConfig config_;
  std::unique_ptr<PluginLoader> loader_;
  std::vector<std::unique_ptr<RtspListener>> listeners_;
  // RTSP authentication of every listener; before streams_, which
  // releases its streams' credentials when it goes.
  StreamAuth stream_auth_;
  std::unique_ptr<StreamManager> streams_;
  const absl::Duration stream_start_wait_;
  // One per configured stream, started by Start(), joined by Stop().
  std::vector<std::thread> builders_;
  bool stopped_ = false;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_SERVER_SERVER_H_
