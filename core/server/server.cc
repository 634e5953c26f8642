// Server: listeners + plugins + streams.
#include "core/server/server.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/time/proto_time.h"

namespace rtsptest::core {
namespace {

// The running binary's path, e.g. /work/bazel-bin/app/rtsp_test_server.
std::string ExecutablePath() {
  char buffer[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "./rtsp_test_server";
}

// health.stall_timeout, or the default for a config that did not go through
// ApplyDefaults (tests build configs by hand).
absl::Duration StallTimeout(const config::v1::ServerConfig& config) {
  return config.health().has_stall_timeout()
             ? common::FromProtoDuration(config.health().stall_timeout())
             : kDefaultStallTimeout;
}

std::vector<std::string> ResolvePluginDirs(const config::v1::ServerConfig& config) {
  if (config.plugin_dirs_size() > 0) {
    return {config.plugin_dirs().begin(), config.plugin_dirs().end()};
  }
  return DefaultPluginDirs();
}

}  // namespace

std::vector<std::string> DefaultPluginDirs() {
  const std::string exe = ExecutablePath();
  const std::string exe_dir = exe.substr(0, exe.rfind('/'));
  std::vector<std::string> dirs = {
      // bazel-bin/app/rtsp_test_server -> bazel-bin/plugins
      absl::StrCat(exe_dir, "/../plugins"),
      // Runfiles of a Bazel-run binary or test.
      absl::StrCat(exe, ".runfiles/rtsp_test_server/plugins"),
      // Container / package install.
      "/usr/lib/rtsp-test-server/plugins",
  };
  if (const char* srcdir = std::getenv("TEST_SRCDIR")) {
    dirs.insert(dirs.begin(), absl::StrCat(srcdir, "/rtsp_test_server/plugins"));
  }
  return dirs;
}

Server::Server(config::v1::ServerConfig config)
    : config_(std::move(config)),
      loader_(std::make_unique<PluginLoader>(ResolvePluginDirs(config_))) {
  std::vector<RtspListener*> raw;
  for (const config::v1::Listener& listener : config_.listeners()) {
    listeners_.push_back(
        std::make_unique<RtspListener>(listener.name(), listener.bind_address(), listener.port()));
    raw.push_back(listeners_.back().get());
  }
  streams_ = std::make_unique<StreamManager>(loader_.get(), std::move(raw), StallTimeout(config_));
  // One GstRTSPAuth for every port, before they start: streams without
  // auth stay open to anonymous readers (core/rtsp_auth/stream_auth.h).
  streams_->SetAuth(&stream_auth_);
  for (auto& listener : listeners_) listener->SetAuth(stream_auth_.auth());
  // A joining reader gets a key frame at once rather than at the next GOP.
  for (auto& listener : listeners_) {
    listener->SetPlayObserver([streams = streams_.get()](PlayPhase phase, absl::string_view path,
                                                         GstRTSPContext* context) {
      streams->OnPlay(phase, path, context);
    });
  }
}

Server::~Server() { Stop(); }

absl::Status Server::Start() {
  int bound = 0;
  for (auto& listener : listeners_) {
    // A taken port is logged by the listener; the others go on.
    if (listener->Start().ok()) ++bound;
  }
  if (bound == 0) {
    return absl::FailedPreconditionError("no RTSP listener could bind; see the errors above");
  }
  int mounted = 0;
  for (const config::v1::Stream& stream : config_.streams()) {
    absl::Status status = streams_->Create(stream);
    if (status.ok()) {
      ++mounted;
      continue;
    }
    common::Log(common::LogLevel::kError, "stream skipped",
                {{"stream", stream.path()},
                 {"plugin", stream.plugin()},
                 {"code", absl::StatusCodeToString(status.code())},
                 {"error", std::string(status.message())}});
  }
  common::Log(common::LogLevel::kInfo, "rtsp serving",
              {{"listeners_bound", bound},
               {"listeners_total", static_cast<int>(listeners_.size())},
               {"streams_mounted", mounted},
               {"streams_total", config_.streams_size()}});
  return absl::OkStatus();
}

void Server::Stop() {
  if (stopped_) return;
  stopped_ = true;
  // Listeners first: no new readers while pipelines go away.
  for (auto& listener : listeners_) listener->Stop();
  streams_->RemoveAll();
}

}  // namespace rtsptest::core
