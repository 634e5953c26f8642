// Server: listeners + plugins + streams.
#include "core/server/server.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/log/log.h"
#include "common/time/proto_time.h"
#include "core/listener/connection_budget.h"

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

// Whether SIGTERM, SIGINT or SIGQUIT is pending for the process. They are
// blocked in every thread and taken only by sigwait() once start-up is done
// (common/process/stop_signals.h); sigpending() looks without taking.
bool StopSignalPending() {
  sigset_t pending;
  sigemptyset(&pending);
  if (sigpending(&pending) != 0) return false;
  return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1 ||
         sigismember(&pending, SIGQUIT) == 1;
}

// How often the wait for the stream builds looks for a stop signal.
constexpr absl::Duration kSignalPoll = absl::Milliseconds(50);

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

Server::Server(config::v1::ServerConfig config, absl::Duration stream_start_wait)
    : config_(std::move(config)),
      loader_(std::make_unique<PluginLoader>(ResolvePluginDirs(config_))),
      stream_start_wait_(stream_start_wait) {
  std::vector<RtspListener*> raw;
  const uint32_t configured_max = config_.limits().max_connections_per_listener();
  const int max_connections = configured_max != 0
                                  ? static_cast<int>(configured_max)
                                  : DefaultConnectionsPerListener(config_.listeners_size());
  for (const config::v1::Listener& listener : config_.listeners()) {
    listeners_.push_back(
        std::make_unique<RtspListener>(listener.name(), listener.bind_address(), listener.port()));
    listeners_.back()->SetMaxConnections(max_connections);
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
  // Every stream at once: one whose source sends nothing holds its builder
  // for gst-rtsp-server's preroll time-out, and must not delay the others.
  struct Progress {
    absl::Mutex mutex;
    int done ABSL_GUARDED_BY(mutex) = 0;
    int mounted ABSL_GUARDED_BY(mutex) = 0;
  };
  auto progress = std::make_shared<Progress>();
  for (const config::v1::Stream& stream : config_.streams()) {
    builders_.emplace_back([streams = streams_.get(), stream, progress] {
      absl::Status status = streams->Create(stream, OnCreateFailure::kKeepFailed);
      if (!status.ok()) {
        // "skipped" is the message tests and operators grep for; the stream
        // is kept, in state failed.
        common::Log(common::LogLevel::kError, "stream skipped",
                    {{"stream", stream.path()},
                     {"plugin", stream.plugin()},
                     {"state", "failed"},
                     {"code", absl::StatusCodeToString(status.code())},
                     {"error", std::string(status.message())}});
      }
      absl::MutexLock lock(&progress->mutex);
      ++progress->done;
      if (status.ok()) ++progress->mounted;
    });
  }
  const int total = config_.streams_size();
  const absl::Time deadline = absl::Now() + stream_start_wait_;
  bool interrupted = false;
  int done = 0;
  int mounted = 0;
  {
    absl::MutexLock lock(&progress->mutex);
    auto all_done = [&progress, total]()
                        ABSL_NO_THREAD_SAFETY_ANALYSIS { return progress->done == total; };
    while (!all_done() && absl::Now() < deadline) {
      interrupted = StopSignalPending();
      if (interrupted) break;
      progress->mutex.AwaitWithDeadline(absl::Condition(&all_done),
                                        std::min(deadline, absl::Now() + kSignalPoll));
    }
    done = progress->done;
    mounted = progress->mounted;
  }
  if (done < total) {
    common::Log(common::LogLevel::kWarning,
                interrupted ? "start-up interrupted by a stop signal; streams still being built"
                            : "streams still being built after the start-up wait; they go on "
                              "in the background",
                {{"streams_building", total - done},
                 {"start_wait", absl::FormatDuration(stream_start_wait_)}});
  }
  common::Log(common::LogLevel::kInfo, "rtsp serving",
              {{"listeners_bound", bound},
               {"listeners_total", static_cast<int>(listeners_.size())},
               {"streams_mounted", mounted},
               {"streams_failed", done - mounted},
               {"streams_building", total - done},
               {"streams_total", total}});
  return absl::OkStatus();
}

void Server::Stop() {
  if (stopped_) return;
  stopped_ = true;
  // The builds first: they mount onto the listeners and publish into the
  // manager. Each is bounded (see Stop() in server.h).
  for (std::thread& builder : builders_) builder.join();
  builders_.clear();
  // Listeners first: no new readers while pipelines go away.
  for (auto& listener : listeners_) listener->Stop();
  streams_->RemoveAll();
}

}  // namespace rtsptest::core
