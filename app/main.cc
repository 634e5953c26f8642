// rtsp_test_server: simulated RTSP cameras for testing video pipelines.
//
// Exit codes: 0 after a clean stop (SIGTERM/SIGINT), 1 when nothing could be
// served (no port could bind), 2 for a bad configuration or bad flags.
#include <arpa/inet.h>
#include <gst/gst.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gateway/gateway.h"
#include "config/config_loader.h"
#include "config/overrides.h"
#include "common/log/log.h"
#include "app/app.h"
#include "config/proto_yaml_mapper.h"
#include "core/font_cache/font_cache.h"
#include "core/glib/gst_log_routing.h"
#include "common/time/proto_time.h"
#include "core/server/server.h"
#include "common/version/version.h"

ABSL_FLAG(std::string, config, "",
          "YAML or JSON config file (default: $RTSP_TEST_CONFIG, else four listeners "
          "8554-8557 and no streams). See config/default.yaml.");
ABSL_FLAG(std::string, rtsp_ports, "",
          "Comma-separated RTSP ports, e.g. 8554,8555,8556,8557. Overrides the config "
          "($RTSP_TEST_RTSP_PORTS).");
ABSL_FLAG(std::string, bind, "",
          "Address every port binds (e.g. 127.0.0.1, 0.0.0.0 or '::'): the RTSP listeners, the "
          "gRPC port unless --grpc_bind, and the --http_port gateway unless --http_bind "
          "($RTSP_TEST_BIND).");
ABSL_FLAG(std::string, grpc_bind, "",
          "Address the gRPC port binds, overriding --bind for it (config control.bind_address, "
          "default 0.0.0.0; $RTSP_TEST_GRPC_BIND).");
ABSL_FLAG(std::string, http_bind, "",
          "Address the --http_port gateway binds (default: where the gRPC port binds).");
ABSL_FLAG(std::vector<std::string>, plugin_dir, {},
          "Plugin directories searched for lib<name>.so, comma-separated ($RTSP_TEST_PLUGIN_DIR, "
          "colon-separated). Default: next to the binary, then /usr/lib/rtsp-test-server/plugins.");
ABSL_FLAG(std::string, log_level, "", "debug | info | warning | error ($RTSP_TEST_LOG_LEVEL).");
ABSL_FLAG(std::string, drain_timeout, "",
          "How long readers may go on after SIGTERM, e.g. 10s; 0 exits at once "
          "($RTSP_TEST_DRAIN_TIMEOUT).");
ABSL_FLAG(std::string, grpc_port, "",
          "gRPC port for grpc.health.v1, reflection and the control API (default 50051; "
          "$RTSP_TEST_GRPC_PORT). 0 picks a free port.");
ABSL_FLAG(std::string, min_healthy_listeners, "",
          "k of the k-of-n health rule: SERVING while at least k RTSP ports answer "
          "(default ceil(0.75 n); $RTSP_TEST_MIN_HEALTHY).");
ABSL_FLAG(int, http_port, 0,
          "Also serve the HTTP health gateway (/health, /ready, /live, /rtsp-urls, /, /metrics) on "
          "this port, in-process, bound like the gRPC port (see --http_bind); 0 = off. Same code "
          "as the health_gateway binary (docs/gateway.md).");
ABSL_FLAG(std::string, probe_interval, "",
          "Time between health probe rounds, e.g. 2s ($RTSP_TEST_PROBE_INTERVAL).");
ABSL_FLAG(std::string, probe_timeout, "",
          "Budget of one probe (TCP connect + RTSP OPTIONS), e.g. 2s ($RTSP_TEST_PROBE_TIMEOUT).");
ABSL_FLAG(std::string, stall_timeout, "",
          "A stream whose video sent no frame for this long is stalled: its stream:<path> health "
          "name turns NOT_SERVING, e.g. 2s ($RTSP_TEST_STALL_TIMEOUT).");
ABSL_FLAG(std::string, require_live_streams, "",
          "true: the overall health name \"\" is NOT_SERVING while any stream is not live, not "
          "only when too few RTSP ports answer ($RTSP_TEST_REQUIRE_LIVE_STREAMS).");
ABSL_FLAG(std::string, deep_check, "",
          "true: probes also DESCRIBE one stream per listener and require an SDP "
          "($RTSP_TEST_DEEP_CHECK).");
ABSL_FLAG(bool, list_plugins, false, "Print the available plugins and their parameters, then exit.");
ABSL_FLAG(bool, check_config, false,
          "Load and validate the config, including each stream's plugin and parameters, then "
          "exit: 0 when valid, 2 when not.");
ABSL_FLAG(bool, version, false, "Print the version and exit.");

namespace rtsptest {
namespace {

using config::kConfigErrorExitCode;

int ConfigError(const std::string& message) {
  std::cerr << "rtsp_test_server: configuration error: " << message << "\n";
  Log(LogLevel::kError, "configuration error", {{"error", message}});
  return kConfigErrorExitCode;
}

// How a flag's value is named in errors: "--min_healthy_listeners=9".
std::string FlagOrigin(absl::string_view name, absl::string_view value) {
  return absl::StrCat("--", name, "=", value);
}

// Turns the flags into the same override structure as the environment.
absl::StatusOr<config::ConfigOverrides> OverridesFromFlags() {
  config::ConfigOverrides overrides;
  config::ConfigOverrides::Origins& origins = overrides.origins;
  if (!absl::GetFlag(FLAGS_config).empty()) overrides.config_path = absl::GetFlag(FLAGS_config);
  if (std::string ports = absl::GetFlag(FLAGS_rtsp_ports); !ports.empty()) {
    absl::StatusOr<std::vector<uint32_t>> parsed = config::ParsePortList(ports);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--rtsp_ports='", ports, "': ", parsed.status().message()));
    }
    overrides.rtsp_ports = *parsed;
    origins.rtsp_ports = FlagOrigin("rtsp_ports", ports);
  }
  if (std::string bind = absl::GetFlag(FLAGS_bind); !bind.empty()) {
    overrides.bind = bind;
    origins.bind = FlagOrigin("bind", bind);
  }
  if (std::string bind = absl::GetFlag(FLAGS_grpc_bind); !bind.empty()) {
    overrides.grpc_bind = bind;
    origins.grpc_bind = FlagOrigin("grpc_bind", bind);
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
  overrides.plugin_dirs = absl::GetFlag(FLAGS_plugin_dir);
  if (!overrides.plugin_dirs.empty()) {
    origins.plugin_dirs = FlagOrigin("plugin_dir", absl::StrJoin(overrides.plugin_dirs, ","));
  }
  if (std::string level = absl::GetFlag(FLAGS_log_level); !level.empty()) {
    absl::StatusOr<config::v1::Logging::Level> parsed = config::ParseLogLevel(level);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--log_level='", level, "': ", parsed.status().message()));
    }
    overrides.log_level = *parsed;
    origins.log_level = FlagOrigin("log_level", level);
  }
  for (auto [flag, name, target, origin] :
       {std::tuple{&FLAGS_drain_timeout, "drain_timeout", &overrides.drain_timeout, &origins.drain_timeout},
        std::tuple{&FLAGS_probe_interval, "probe_interval", &overrides.probe_interval,
                   &origins.probe_interval},
        std::tuple{&FLAGS_probe_timeout, "probe_timeout", &overrides.probe_timeout,
                   &origins.probe_timeout},
        std::tuple{&FLAGS_stall_timeout, "stall_timeout", &overrides.stall_timeout,
                   &origins.stall_timeout}}) {
    std::string text = absl::GetFlag(*flag);
    if (text.empty()) continue;
    absl::StatusOr<absl::Duration> parsed = config::ParseConfigDuration(text);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, "='", text, "': ", parsed.status().message()));
    }
    *target = *parsed;
    *origin = FlagOrigin(name, text);
  }
  for (auto [flag, name, target, origin] :
       {std::tuple{&FLAGS_deep_check, "deep_check", &overrides.deep_check, &origins.deep_check},
        std::tuple{&FLAGS_require_live_streams, "require_live_streams",
                   &overrides.require_live_streams, &origins.require_live_streams}}) {
    std::string text = absl::GetFlag(*flag);
    if (text.empty()) continue;
    absl::StatusOr<bool> parsed = config::ParseBool(text);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": ", parsed.status().message()));
    }
    *target = *parsed;
    *origin = FlagOrigin(name, text);
  }
  if (std::string port = absl::GetFlag(FLAGS_grpc_port); !port.empty()) {
    absl::StatusOr<uint32_t> parsed = config::ParseBoundedUint(port, 65535);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--grpc_port: ", parsed.status().message()));
    }
    overrides.grpc_port = *parsed;
    origins.grpc_port = FlagOrigin("grpc_port", port);
  }
  if (std::string k = absl::GetFlag(FLAGS_min_healthy_listeners); !k.empty()) {
    absl::StatusOr<uint32_t> parsed = config::ParseBoundedUint(k, 65535);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--min_healthy_listeners: ", parsed.status().message()));
    }
    overrides.min_healthy = *parsed;
    origins.min_healthy = FlagOrigin("min_healthy_listeners", k);
  }
  return overrides;
}

void ApplyLogLevel(const config::v1::ServerConfig& config) {
  switch (config.logging().level()) {
    case config::v1::Logging::DEBUG:
      SetLogLevel(LogLevel::kDebug);
      break;
    case config::v1::Logging::WARNING:
      SetLogLevel(LogLevel::kWarning);
      break;
    case config::v1::Logging::ERROR:
      SetLogLevel(LogLevel::kError);
      break;
    default:
      SetLogLevel(LogLevel::kInfo);
  }
}

const char* TypeName(rts_param_type type) {
  switch (type) {
    case RTS_PARAM_TYPE_INT:
      return "int";
    case RTS_PARAM_TYPE_DOUBLE:
      return "double";
    case RTS_PARAM_TYPE_BOOL:
      return "bool";
    case RTS_PARAM_TYPE_STRING:
      return "string";
    case RTS_PARAM_TYPE_ENUM:
      return "enum";
    default:
      return "?";
  }
}

int ListPlugins(server::PluginLoader& loader) {
  std::vector<std::string> names = loader.ListAvailable();
  if (names.empty()) {
    std::cout << "no plugins found in: " << absl::StrJoin(loader.plugin_dirs(), ", ") << "\n";
    return 1;
  }
  for (const std::string& name : names) {
    absl::StatusOr<std::shared_ptr<const server::Plugin>> plugin = loader.Load(name);
    if (!plugin.ok()) {
      std::cout << name << ": NOT LOADABLE: " << plugin.status().message() << "\n\n";
      continue;
    }
    const rts_plugin_descriptor& d = (*plugin)->descriptor();
    std::cout << d.name << " " << d.version << " (" << (*plugin)->path() << ")\n  " << d.description << "\n";
    for (size_t i = 0; i < d.param_count; ++i) {
      const rts_param_spec& p = d.params[i];
      std::cout << "  " << p.name << " (" << TypeName(p.type);
      if (p.type == RTS_PARAM_TYPE_ENUM && p.allowed_values != nullptr) {
        std::vector<std::string> values;
        for (const char* const* v = p.allowed_values; *v != nullptr; ++v) values.push_back(*v);
        std::cout << ": " << absl::StrJoin(values, "|");
      } else if ((p.type == RTS_PARAM_TYPE_INT || p.type == RTS_PARAM_TYPE_DOUBLE) && p.min != p.max) {
        std::cout << ": " << p.min << ".." << p.max;
      }
      std::cout << ", default " << (p.default_value ? p.default_value : "<required>") << ")";
      if (p.help != nullptr) std::cout << "  " << p.help;
      std::cout << "\n";
    }
    std::cout << "\n";
  }
  return 0;
}

// Checks every stream against its plugin without serving anything: loads the
// plugin, validates the parameters and builds the stream's element once (so a
// bad pipeline description or a missing file fails here, not at start-up).
int CheckStreams(const config::v1::ServerConfig& config, server::PluginLoader& loader) {
  int errors = 0;
  for (const config::v1::Stream& stream : config.streams()) {
    absl::StatusOr<std::shared_ptr<const server::Plugin>> plugin = loader.Load(stream.plugin());
    absl::Status status = plugin.status();
    if (plugin.ok()) {
      std::map<std::string, std::string> raw(stream.parameters().begin(), stream.parameters().end());
      status = (*plugin)->CreateElement(stream.path(), raw).status();
    }
    if (!status.ok()) {
      std::string message(status.message());
      std::string prefix = absl::StrCat("stream ", stream.path(), ": ");
      std::cerr << (absl::StartsWith(message, prefix) ? "" : prefix) << message << "\n";
      ++errors;
    }
  }
  if (errors > 0) return kConfigErrorExitCode;
  std::cout << "config OK: " << config.listeners_size() << " listeners, " << config.streams_size()
            << " streams\n";
  return 0;
}

// The stop signals. They are blocked in every thread (the mask is set before
// any thread starts) and taken synchronously with sigwait/sigtimedwait, so no
// async-signal-safety concerns reach the rest of the program.
sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

// How long stopping may take after the drain before the process just exits.
constexpr absl::Duration kStopWatchdog = absl::Seconds(5);

const char* SignalName(int signal) { return signal == SIGTERM ? "SIGTERM" : "SIGINT"; }

// Drain after the first stop signal: health is already NOT_SERVING and the
// RTSP ports refuse new connections; open sessions go on until they end or
// `timeout` passes. A second signal exits at once.
void Drain(server::App& app, absl::Duration timeout) {
  sigset_t signals = StopSignals();
  absl::Time deadline = absl::Now() + timeout;
  while (app.OpenRtspConnections() > 0 && absl::Now() < deadline) {
    // Wake every 100 ms to notice the last session ending.
    timespec slice = absl::ToTimespec(std::min(absl::Milliseconds(100), deadline - absl::Now()));
    int signal = sigtimedwait(&signals, nullptr, &slice);
    if (signal > 0) {
      Log(LogLevel::kWarning, "second stop signal: exiting without finishing the drain",
          {{"signal", SignalName(signal)}});
      std::_Exit(0);
    }
  }
  Log(LogLevel::kInfo, "drain finished", {{"open_rtsp_connections", app.OpenRtspConnections()}});
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves simulated RTSP cameras on several ports.\n\n"
      "  rtsp_test_server --config=config/default.yaml\n"
      "  rtsp_test_server --config=cams.yaml --rtsp_ports=9554,9555 --bind=127.0.0.1\n"
      "  rtsp_test_server --list_plugins\n\n"
      "Flags override RTSP_TEST_* environment variables, which override the config file.\n"
      "Exit codes: 0 clean stop, 1 nothing could be served, 2 bad configuration.");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) return ConfigError(absl::StrCat("unexpected argument '", rest[1], "'"));
  if (absl::GetFlag(FLAGS_version)) {
    std::cout << "rtsp_test_server " << kVersion << " (plugin ABI " << RTS_PLUGIN_ABI_MAJOR << "."
              << RTS_PLUGIN_ABI_MINOR << ", GStreamer " << GST_VERSION_MAJOR << "." << GST_VERSION_MINOR
              << ")\n";
    return 0;
  }
  absl::StatusOr<config::ConfigOverrides> flags = OverridesFromFlags();
  if (!flags.ok()) return ConfigError(std::string(flags.status().message()));
  absl::StatusOr<config::ConfigOverrides> env = config::OverridesFromEnvironment();
  if (!env.ok()) return ConfigError(std::string(env.status().message()));
  absl::StatusOr<config::v1::ServerConfig> loaded = config::LoadServerConfig(*flags, *env);
  if (!loaded.ok()) return ConfigError(std::string(loaded.status().message()));
  config::v1::ServerConfig config = *std::move(loaded);

  // Block the stop signals before GStreamer and the listeners start threads,
  // so that every thread inherits the mask and only sigwait() sees them.
  sigset_t signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  ApplyLogLevel(config);
  // Before gst_init(): pango (text overlays) initialises fontconfig, which
  // prints on stderr when it has no cache directory it can write.
  absl::StatusOr<std::string> font_cache = server::EnsureWritableFontCache();
  if (!font_cache.ok()) {
    Log(LogLevel::kWarning, "fontconfig has no writable cache directory; text overlays may print "
                            "'Fontconfig error' lines on stderr",
        {{"error", std::string(font_cache.status().message())}});
  } else if (!font_cache->empty()) {
    Log(LogLevel::kDebug, "fontconfig cache directories are not writable; using our own",
        {{"dir", *font_cache}});
  }
  gst_init(nullptr, nullptr);
  InstallGstLogRouting();

  if (absl::GetFlag(FLAGS_list_plugins) || absl::GetFlag(FLAGS_check_config)) {
    server::Server server(config);
    return absl::GetFlag(FLAGS_list_plugins) ? ListPlugins(server.plugins())
                                             : CheckStreams(config, server.plugins());
  }
  if (config.streams_size() == 0) {
    Log(LogLevel::kWarning, "no streams configured; pass --config=config/default.yaml for the default cameras");
  }
  server::App app(config);
  Log(LogLevel::kInfo, "starting", {{"version", kVersion},
                                    {"plugin_dirs", absl::StrJoin(app.server().plugins().plugin_dirs(), ":")}});
  absl::Status started = app.Start();
  if (!started.ok()) {
    Log(LogLevel::kError, "cannot serve", {{"error", std::string(started.message())}});
    return 1;
  }
  // The embedded HTTP gateway follows this process over its own gRPC port,
  // exactly as the sidecar would, so both report the same thing.
  std::unique_ptr<gateway::Gateway> http_gateway;
  if (int http_port = absl::GetFlag(FLAGS_http_port); http_port != 0) {
    gateway::GatewayOptions options;
    options.http.port = http_port;
    options.http.bind_address = absl::GetFlag(FLAGS_http_bind).empty()
                                    ? config.control().bind_address()
                                    : absl::GetFlag(FLAGS_http_bind);
    options.follower.grpc_addr = app.local_grpc_address();
    absl::StatusOr<std::unique_ptr<gateway::Gateway>> started_gateway = gateway::Gateway::Start(options);
    if (!started_gateway.ok()) {
      Log(LogLevel::kError, "cannot serve the HTTP gateway",
          {{"http_port", http_port}, {"error", std::string(started_gateway.status().message())}});
      app.Stop();
      return 1;
    }
    http_gateway = *std::move(started_gateway);
  }
  sigset_t stop_signals = StopSignals();
  int signal = 0;
  sigwait(&stop_signals, &signal);
  absl::Duration drain_timeout = FromProtoDuration(config.drain_timeout());
  app.BeginDrain();
  Log(LogLevel::kInfo, "draining",
      {{"signal", SignalName(signal)}, {"drain_timeout", absl::FormatDuration(drain_timeout)},
       {"open_rtsp_connections", app.OpenRtspConnections()}});
  Drain(app, drain_timeout);
  // A stop that hangs (a GStreamer element that never finishes its state
  // change, a client thread stuck in a send) must not turn a clean SIGTERM
  // into an orchestrator's SIGKILL: the watchdog ends the process anyway.
  std::thread([] {
    absl::SleepFor(kStopWatchdog);
    Log(LogLevel::kError, "shutdown did not finish; exiting without it",
        {{"watchdog", absl::FormatDuration(kStopWatchdog)}});
    std::_Exit(0);
  }).detach();
  // After the drain, so that load balancers see 503 "draining" throughout.
  if (http_gateway) http_gateway->Stop();
  app.Stop();
  Log(LogLevel::kInfo, "stopped");
  // Everything that matters is closed and the log is flushed; static
  // destructors and GStreamer's own teardown only add exit latency.
  std::fflush(stdout);
  std::_Exit(0);
}

}  // namespace
}  // namespace rtsptest

int main(int argc, char** argv) { return rtsptest::Main(argc, argv); }
