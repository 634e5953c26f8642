// rtsp_test_server: simulated RTSP cameras for testing video pipelines.
//
// Exit codes: 0 after a clean stop (SIGTERM/SIGINT/SIGQUIT), 1 when nothing
// could be served (no port could bind), 2 for a bad configuration or bad flags.
// SIGHUP, SIGUSR1, SIGUSR2 and SIGALRM are logged and ignored, from the first
// line of Main() on (see common/process/stop_signals.h).
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gst/gst.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "app/app.h"
#include "app/file_limit.h"
#include "app/flag_check.h"
#include "common/log/log.h"
#include "common/process/stop_signals.h"
#include "common/time/proto_time.h"
#include "common/version/version.h"
#include "config/config_loader.h"
#include "config/overrides.h"
#include "control/grpc_server/control_plane_server.h"
#include "core/font_cache/font_cache.h"
#include "core/glib/gst_log_routing.h"
#include "core/plugin_host/plugin_catalog.h"
#include "core/plugin_host/stream_check.h"
#include "core/server/server.h"
#include "gateway/gateway.h"

ABSL_FLAG(std::string, config, "",
          "YAML or JSON config file (default: $RTSP_TEST_CONFIG, else four listeners "
          "8554-8557 and no streams). See config/default.yaml.");
ABSL_FLAG(std::string, http_bind, "",
          "Address the --http_port gateway binds (default: where the gRPC port binds).");
ABSL_FLAG(std::string, http_port, "",
          "Also serve the HTTP health gateway (/health, /ready, /live, /rtsp-urls, /, /metrics) on "
          "this port, in-process, bound like the gRPC port (see --http_bind); unset = off, 0 picks "
          "a free port (logged as http_port). Same code as the health_gateway binary "
          "(docs/gateway.md).");
ABSL_FLAG(bool, list_plugins, false,
          "Print the available plugins and their parameters, then exit.");
ABSL_FLAG(bool, check_config, false,
          "Load and validate the config, including each stream's plugin and parameters, then "
          "exit: 0 when valid, 2 when not.");
ABSL_FLAG(bool, version, false, "Print the version and exit.");

// One string flag per row of the override table; empty means not given.
#define RTS_OVERRIDE_KNOB(flag, env, field, rules, help) \
  ABSL_FLAG(std::string, flag, "", help " ($" env ")");
#include "config/override_knobs.inc"
#undef RTS_OVERRIDE_KNOB

namespace rtsptest::app {
namespace {

using config::kConfigErrorExitCode;

int ConfigError(const std::string& message) {
  std::cerr << "rtsp_test_server: configuration error: " << message << "\n";
  common::Log(common::LogLevel::kError, "configuration error", {{"error", message}});
  return kConfigErrorExitCode;
}

// The override flags, in table order, with their knobs.
struct OverrideFlag {
  const absl::Flag<std::string>* flag;
  const config::OverrideKnob* knob;
};

std::vector<OverrideFlag> OverrideFlags() {
  std::vector<OverrideFlag> flags = {
#define RTS_OVERRIDE_KNOB(flag, env, field, rules, help) \
  {&FLAGS_##flag, config::FindOverrideKnob(#flag)},
#include "config/override_knobs.inc"
#undef RTS_OVERRIDE_KNOB
  };
  return flags;
}

// Turns the flags into the same override structure as the environment.
absl::StatusOr<config::ConfigOverrides> OverridesFromFlags() {
  config::ConfigOverrides overrides;
  if (!absl::GetFlag(FLAGS_config).empty()) overrides.config_path = absl::GetFlag(FLAGS_config);
  for (const OverrideFlag& flag : OverrideFlags()) {
    std::string value = absl::GetFlag(*flag.flag);
    if (value.empty()) continue;
    absl::Status status = overrides.Set(*flag.knob, config::OverrideSource::kFlag, value);
    if (!status.ok()) return status;
  }
  if (std::string http_bind = absl::GetFlag(FLAGS_http_bind); !http_bind.empty()) {
    // Not part of the config; checked here so that a typo is a configuration
    // error (exit 2) rather than a gateway that cannot start (exit 1).
    in6_addr ignored;
    if (inet_pton(AF_INET, http_bind.c_str(), &ignored) != 1 &&
        inet_pton(AF_INET6, http_bind.c_str(), &ignored) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--http_bind='", http_bind, "': not an IPv4 or IPv6 address"));
    }
  }
  return overrides;
}

// --http_port: nullopt when unset (no gateway), else 0..65535.
absl::StatusOr<std::optional<int>> HttpPortFromFlag() {
  const std::string text = absl::GetFlag(FLAGS_http_port);
  if (text.empty()) return std::nullopt;
  int port = 0;
  if (!absl::SimpleAtoi(text, &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http_port='", text, "': not a port number (0..65535)"));
  }
  return port;
}

void ApplyLogLevel(const config::v1::ServerConfig& config) {
  switch (config.logging().level()) {
    case config::v1::Logging::DEBUG:
      common::SetLogLevel(common::LogLevel::kDebug);
      break;
    case config::v1::Logging::WARNING:
      common::SetLogLevel(common::LogLevel::kWarning);
      break;
    case config::v1::Logging::ERROR:
      common::SetLogLevel(common::LogLevel::kError);
      break;
    default:
      common::SetLogLevel(common::LogLevel::kInfo);
  }
}

// How long stopping may take after the drain before the process just exits.
constexpr absl::Duration kStopWatchdog = absl::Seconds(5);

// How the embedded gateway reaches this process's own gRPC port (see
// control::SelfChannelCredentials).
std::shared_ptr<grpc::ChannelCredentials> SelfCredentials(const config::v1::ControlPlane& control) {
  absl::StatusOr<control::ControlPlaneSecurity> security = control::SecurityFromConfig(control);
  if (!security.ok()) return grpc::InsecureChannelCredentials();
  return control::SelfChannelCredentials(*security);
}

// --check_config: 0 when every stream builds, else kConfigErrorExitCode.
int CheckConfig(const config::v1::ServerConfig& config, core::PluginLoader& loader) {
  std::vector<std::string> errors = core::CheckStreams(config, loader);
  for (const std::string& error : errors) std::cerr << error << "\n";
  if (!errors.empty()) return kConfigErrorExitCode;
  std::cout << "config OK: " << config.listeners_size() << " listeners, " << config.streams_size()
            << " streams\n";
  return 0;
}

// Drain after the first stop signal: health is already NOT_SERVING and the
// RTSP ports refuse new connections; open sessions go on until they end or
// `timeout` passes. A second signal exits at once.
void Drain(app::App& app, const common::StopSignals& stop_signals, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (app.OpenRtspConnections() > 0 && absl::Now() < deadline) {
    // Wake every 100 ms to notice the last session ending.
    int signal = stop_signals.WaitFor(std::min(absl::Milliseconds(100), deadline - absl::Now()));
    if (signal > 0) {
      common::Log(common::LogLevel::kWarning,
                  "second stop signal: exiting without finishing the drain",
                  {{"signal", common::StopSignals::Name(signal)}});
      std::_Exit(0);
    }
  }
  common::Log(common::LogLevel::kInfo, "drain finished",
              {{"open_rtsp_connections", app.OpenRtspConnections()}});
}

int Main(int argc, char** argv) {
  // First of all, before config or plugin loading and before GStreamer and
  // the listeners start threads: every thread inherits the mask, only
  // sigwait() sees these signals, and one that arrives during start-up waits
  // for Wait() below instead of taking its default action (ending the
  // process).
  const common::StopSignals stop_signals = common::StopSignals::Install();
  // Debian builds Abseil without NDEBUG, so every absl::Mutex lock would run
  // the deadlock detector's graph bookkeeping; on the send path that is
  // taken per reader per packet (about 5 % of the stream's send thread at a
  // thousand readers). The tests keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Before anything opens descriptors: every connection holds one, and the
  // usual soft limit (1024) is far below what the hard limit allows. Logged
  // once serving, so that --version, --list_plugins and --check_config print
  // only what they are asked for (the log goes to stdout).
  const FileLimit file_limit = RaiseFileLimit();

  absl::SetProgramUsageMessage(
      "Serves simulated RTSP cameras on several ports.\n\n"
      "  rtsp_test_server --config=config/default.yaml\n"
      "  rtsp_test_server --config=cams.yaml --rtsp_ports=9554,9555 --bind=127.0.0.1\n"
      "  rtsp_test_server --list_plugins\n\n"
      "Flags override RTSP_TEST_* environment variables, which override the config file.\n"
      "Exit codes: 0 clean stop, 1 nothing could be served, 2 bad configuration.\n"
      "Signals: SIGTERM, SIGINT, SIGQUIT drain then stop; SIGHUP, SIGUSR1, SIGUSR2, SIGALRM are\n"
      "logged and ignored (configuration reload is not supported).");
  // --help lists the server's own flags: this file's and the override
  // table's (defined above from config/override_knobs.inc, so absl files
  // them under that name). absl's default looks for <program>.cc only.
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "app/main.cc") || absl::EndsWith(file, "config/override_knobs.inc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  // absl::ParseCommandLine would exit 1 on a bad flag; that is exit 2 here.
  if (absl::Status flags_ok = CheckCommandLineFlags(argc, argv); !flags_ok.ok()) {
    return ConfigError(std::string(flags_ok.message()));
  }
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) return ConfigError(absl::StrCat("unexpected argument '", rest[1], "'"));
  if (absl::GetFlag(FLAGS_version)) {
    std::cout << "rtsp_test_server " << common::kVersion << " (plugin ABI " << RTS_PLUGIN_ABI_MAJOR
              << "." << RTS_PLUGIN_ABI_MINOR << ", GStreamer " << GST_VERSION_MAJOR << "."
              << GST_VERSION_MINOR << ")\n";
    return 0;
  }
  absl::StatusOr<config::ConfigOverrides> flags = OverridesFromFlags();
  if (!flags.ok()) return ConfigError(std::string(flags.status().message()));
  const absl::StatusOr<std::optional<int>> http_port = HttpPortFromFlag();
  if (!http_port.ok()) return ConfigError(std::string(http_port.status().message()));
  absl::StatusOr<config::ConfigOverrides> env = config::OverridesFromEnvironment();
  if (!env.ok()) return ConfigError(std::string(env.status().message()));
  absl::StatusOr<config::v1::ServerConfig> loaded = config::LoadServerConfig(*flags, *env);
  if (!loaded.ok()) return ConfigError(std::string(loaded.status().message()));
  config::v1::ServerConfig config = *std::move(loaded);

  ApplyLogLevel(config);
  // Before gst_init(): pango (text overlays) initialises fontconfig, which
  // prints on stderr when it has no cache directory it can write.
  absl::StatusOr<std::string> font_cache = core::EnsureWritableFontCache();
  if (!font_cache.ok()) {
    common::Log(common::LogLevel::kWarning,
                "fontconfig has no writable cache directory; text overlays may print "
                "'Fontconfig error' lines on stderr",
                {{"error", std::string(font_cache.status().message())}});
  } else if (!font_cache->empty()) {
    common::Log(common::LogLevel::kDebug,
                "fontconfig cache directories are not writable; using our own",
                {{"dir", *font_cache}});
  }
  gst_init(nullptr, nullptr);
  core::InstallGstLogRouting();

  if (absl::GetFlag(FLAGS_list_plugins) || absl::GetFlag(FLAGS_check_config)) {
    // One-shot: nothing to drain, so Ctrl-C and SIGTERM end it at once.
    stop_signals.ReleaseStopSignals();
    core::Server server(config);
    if (absl::GetFlag(FLAGS_list_plugins)) {
      return core::WritePluginCatalog(server.plugins(), std::cout) ? 0 : 1;
    }
    return CheckConfig(config, server.plugins());
  }
  if (config.streams_size() == 0) {
    common::Log(common::LogLevel::kWarning,
                "no streams configured; pass --config=config/default.yaml for the default cameras");
  }
  if (file_limit.error.ok()) {
    common::Log(common::LogLevel::kInfo, "file descriptor limit raised to the hard limit",
                {{"soft_before", file_limit.previous},
                 {"soft", file_limit.soft},
                 {"hard", file_limit.hard}});
  } else {
    common::Log(common::LogLevel::kWarning, "cannot raise the file descriptor limit",
                {{"soft", file_limit.soft},
                 {"hard", file_limit.hard},
                 {"error", std::string(file_limit.error.message())}});
  }
  app::App app(config);
  common::Log(common::LogLevel::kInfo, "starting",
              {{"version", common::kVersion},
               {"plugin_dirs", absl::StrJoin(app.server().plugins().plugin_dirs(), ":")}});
  absl::Status started = app.Start();
  if (!started.ok()) {
    common::Log(common::LogLevel::kError, "cannot serve",
                {{"error", std::string(started.message())}});
    return 1;
  }
  // The embedded HTTP gateway follows this process over its own gRPC port,
  // exactly as the sidecar would, so both report the same thing.
  std::unique_ptr<gateway::Gateway> http_gateway;
  if (http_port->has_value()) {
    gateway::GatewayOptions options;
    options.http.port = **http_port;
    options.http.bind_address = absl::GetFlag(FLAGS_http_bind).empty()
                                    ? config.control().bind_address()
                                    : absl::GetFlag(FLAGS_http_bind);
    options.follower.grpc_addr = app.local_grpc_address();
    options.follower.credentials = SelfCredentials(config.control());
    absl::StatusOr<std::unique_ptr<gateway::Gateway>> started_gateway =
        gateway::Gateway::Start(options);
    if (!started_gateway.ok()) {
      common::Log(
          common::LogLevel::kError, "cannot serve the HTTP gateway",
          {{"http_port", **http_port}, {"error", std::string(started_gateway.status().message())}});
      app.Stop();
      return 1;
    }
    http_gateway = *std::move(started_gateway);
  }
  int signal = stop_signals.Wait();
  absl::Duration drain_timeout = common::FromProtoDuration(config.drain_timeout());
  app.BeginDrain();
  common::Log(common::LogLevel::kInfo, "draining",
              {{"signal", common::StopSignals::Name(signal)},
               {"drain_timeout", absl::FormatDuration(drain_timeout)},
               {"open_rtsp_connections", app.OpenRtspConnections()}});
  Drain(app, stop_signals, drain_timeout);
  common::StartStopWatchdog(kStopWatchdog, [] {
    common::Log(common::LogLevel::kError, "shutdown did not finish; exiting without it",
                {{"watchdog", absl::FormatDuration(kStopWatchdog)}});
  });
  // After the drain, so that load balancers see 503 "draining" throughout.
  if (http_gateway) http_gateway->Stop();
  app.Stop();
  common::Log(common::LogLevel::kInfo, "stopped");
  // Everything that matters is closed and the log is flushed; static
  // destructors and GStreamer's own teardown only add exit latency.
  std::fflush(stdout);
  std::_Exit(0);
}

}  // namespace
}  // namespace rtsptest::app

int main(int argc, char** argv) { return rtsptest::app::Main(argc, argv); }
