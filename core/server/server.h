// Server: the RTSP side of rtsp-test-server, assembled from a ServerConfig.
//
// It owns the plugin loader, one RtspListener per configured port and the
// stream manager. Start() is forgiving by design: a listener that cannot
// bind and a stream whose plugin or parameters are bad are logged and
// skipped, and everything else serves. Health (health/) reports what is
// actually up.
#ifndef RTSPTEST_CORE_SERVER_SERVER_H_
#define RTSPTEST_CORE_SERVER_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
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

class Server {
 public:
  explicit Server(config::v1::ServerConfig config);
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listeners and mounts the streams. Fails (FailedPrecondition)
  // only when no listener could bind at all.
  absl::Status Start();
  // Closes every listener and releases every stream. Idempotent.
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
  bool stopped_ = false;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_SERVER_SERVER_H_
