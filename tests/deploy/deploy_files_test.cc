// Checks that the deployment files in deploy/ agree with the product they
// deploy: every health_probe invocation parses with the real health_probe,
// every rtsp_test_server flag and RTSP_TEST_* variable is one the real server
// knows, ports match config/default.yaml, stop timeouts outlast the drain,
// the Kubernetes probes name health services the running server publishes,
// and the ConfigMap's config passes `rtsp_test_server --check_config`.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/util/loopback.h"
#include "yaml-cpp/yaml.h"

namespace rtsptest::testing {
namespace {

constexpr int kGrpcPort = 50051;
constexpr int kHttpPort = 8080;
// health_probe's exit codes (tools/health_probe/health_probe.cc).
constexpr int kProbeBadArguments = 1;
constexpr int kProbeConnectionFailed = 2;
constexpr int kProbeUnhealthy = 4;
// rtsp_test_server's exit code for a bad configuration.
constexpr int kServerBadConfig = 2;

std::string ReadRunfile(const std::string& relative) {
  std::ifstream in(RunfilePath(relative));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

YAML::Node LoadRunfileYaml(const std::string& relative) {
  return YAML::LoadFile(RunfilePath(relative));
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `argv` with `env` added to the environment; kills it after 30 s.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {}) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  CommandResult result;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  char buffer[4096];
  while (true) {
    pollfd p{fds[0], POLLIN, 0};
    const int left = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (left <= 0 || poll(&p, 1, left) <= 0) {
      kill(pid, SIGKILL);
      break;
    }
    const ssize_t n = read(fds[0], buffer, sizeof(buffer));
    if (n <= 0) break;
    result.output.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return result;
}

std::string ServerBinary() { return RunfilePath("app/rtsp_test_server"); }
std::string ProbeBinary() { return RunfilePath("tools/health_probe/health_probe"); }

// ------------------------------------------------------------ Dockerfile

// The Dockerfile as logical instructions: comments dropped, continuation
// lines joined.
std::vector<std::string> DockerInstructions() {
  std::vector<std::string> out;
  std::string current;
  for (absl::string_view line : absl::StrSplit(ReadRunfile("deploy/docker/Dockerfile"), '\n')) {
    absl::string_view stripped = absl::StripAsciiWhitespace(line);
    if (absl::StartsWith(stripped, "#")) continue;
    if (current.empty() && stripped.empty()) continue;
    if (absl::EndsWith(stripped, "\\")) {
      absl::StrAppend(&current, stripped.substr(0, stripped.size() - 1), " ");
      continue;
    }
    absl::StrAppend(&current, stripped);
    out.push_back(current);
    current.clear();
  }
  return out;
}

std::vector<std::string> DockerInstructionsOf(const std::string& keyword) {
  std::vector<std::string> out;
  for (const std::string& i : DockerInstructions()) {
    if (absl::StartsWith(i, keyword + " ")) out.push_back(i.substr(keyword.size() + 1));
  }
  return out;
}

std::vector<std::string> JsonArray(const std::string& text) {
  std::vector<std::string> out;
  for (const YAML::Node& n : YAML::Load(text)) out.push_back(n.as<std::string>());
  return out;
}

std::vector<std::string> DockerEntrypoint() {
  std::vector<std::string> entrypoints = DockerInstructionsOf("ENTRYPOINT");
  EXPECT_EQ(entrypoints.size(), 1u);
  return entrypoints.empty() ? std::vector<std::string>{} : JsonArray(entrypoints.back());
}

struct DockerHealthcheck {
  std::map<std::string, std::string> options;  // "interval" -> "5s"
  std::vector<std::string> command;
};

DockerHealthcheck DockerHealth() {
  DockerHealthcheck h;
  std::vector<std::string> checks = DockerInstructionsOf("HEALTHCHECK");
  EXPECT_EQ(checks.size(), 1u);
  if (checks.empty()) return h;
  const std::string& text = checks[0];
  const size_t cmd = text.find(" CMD ");
  EXPECT_NE(cmd, std::string::npos) << text;
  for (absl::string_view option : absl::StrSplit(text.substr(0, cmd), ' ', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(absl::StripPrefix(option, "--"), '=');
    h.options[kv.first] = kv.second;
  }
  h.command = JsonArray(text.substr(cmd + 5));
  return h;
}

// Whole seconds from "20s" or "20", the forms these files use.
int Seconds(const std::string& text) {
  int value = -1;
  EXPECT_TRUE(absl::SimpleAtoi(absl::StripSuffix(text, "s"), &value)) << text;
  return value;
}

// ------------------------------------------------------ expected product

// The ports a container of the default config listens on.
std::set<int> ExpectedPorts() {
  std::set<int> ports = {kGrpcPort, kHttpPort};
  for (const YAML::Node& l : LoadRunfileYaml("config/default.yaml")["listeners"]) {
    ports.insert(l["port"].as<int>());
  }
  return ports;
}

YAML::Node EcsContainer() {
  return LoadRunfileYaml("deploy/ecs/task-definition.json")["containerDefinitions"][0];
}

YAML::Node K8sContainer() {
  return LoadRunfileYaml(
      "deploy/kubernetes/deployment.yaml")["spec"]["template"]["spec"]["containers"][0];
}

// Both Compose files run the server as service "rtsp-test-server".
constexpr const char* kComposeFiles[] = {"deploy/compose/docker-compose.yml",
                                         "deploy/compose/docker-compose.health-test.yml"};

YAML::Node ComposeServer(const std::string& file = kComposeFiles[0]) {
  return LoadRunfileYaml(file)["services"]["rtsp-test-server"];
}

std::string ConfigMapConfig() {
  return LoadRunfileYaml("deploy/kubernetes/configmap.yaml")["data"]["config.yaml"]
      .as<std::string>();
}

// Every health_probe command line in the deploy files, as argv without the
// binary, with where it came from.
struct ProbeCall {
  std::string where;
  std::string binary;
  std::vector<std::string> args;
};

std::vector<ProbeCall> ProbeCalls() {
  std::vector<ProbeCall> calls;
  auto from_exec_form = [&](const std::string& where, std::vector<std::string> argv) {
    if (!argv.empty() && (argv[0] == "CMD" || argv[0] == "CMD-SHELL")) argv.erase(argv.begin());
    if (argv.empty()) return;
    calls.push_back({where, argv[0], std::vector<std::string>(argv.begin() + 1, argv.end())});
  };
  from_exec_form("Dockerfile HEALTHCHECK", DockerHealth().command);
  from_exec_form("ECS healthCheck",
                 EcsContainer()["healthCheck"]["command"].as<std::vector<std::string>>());
  for (const char* file : kComposeFiles) {
    from_exec_form(absl::StrCat(file, " healthcheck"),
                   ComposeServer(file)["healthcheck"]["test"].as<std::vector<std::string>>());
  }
  // Shell uses in the Dockerfile's RUN steps (build-time checks).
  for (const std::string& run : DockerInstructionsOf("RUN")) {
    for (absl::string_view piece : absl::StrSplit(run, absl::ByAnyChar(";&|"))) {
      std::vector<std::string> words = absl::StrSplit(piece, ' ', absl::SkipWhitespace());
      for (size_t i = 0; i < words.size(); ++i) {
        if (words[i] != "health_probe") continue;
        ProbeCall call{"Dockerfile RUN", "/usr/local/bin/health_probe", {}};
        for (size_t j = i + 1; j < words.size() && absl::StartsWith(words[j], "-"); ++j) {
          call.args.push_back(words[j]);
        }
        calls.push_back(call);
      }
    }
  }
  return calls;
}

std::string FlagName(absl::string_view arg) {
  absl::ConsumePrefix(&arg, "-");
  absl::ConsumePrefix(&arg, "-");
  return std::string(arg.substr(0, arg.find('=')));
}

// ================================================================== tests

TEST(DeployFilesTest, HealthProbeIsInstalledWhereTheChecksCallIt) {
  const std::string dockerfile = ReadRunfile("deploy/docker/Dockerfile");
  EXPECT_TRUE(absl::StrContains(dockerfile, "COPY --from=build /out/bin/ /usr/local/bin/"));
  EXPECT_TRUE(absl::StrContains(dockerfile, "bazel-bin/tools/health_probe/health_probe"));
  std::vector<ProbeCall> calls = ProbeCalls();
  ASSERT_GE(calls.size(), 5u);
  for (const ProbeCall& call : calls) {
    EXPECT_EQ(call.binary, "/usr/local/bin/health_probe") << call.where;
  }
}

TEST(DeployFilesTest, EveryHealthProbeFlagIsInItsHelp) {
  CommandResult help = RunCommand({ProbeBinary(), "--help"});
  ASSERT_EQ(help.exit_code, 0) << help.output;
  for (const ProbeCall& call : ProbeCalls()) {
    for (const std::string& arg : call.args) {
      EXPECT_TRUE(absl::StrContains(help.output, absl::StrCat("  -", FlagName(arg), " ")))
          << call.where << ": flag " << arg << " is not in health_probe --help";
    }
  }
}

TEST(DeployFilesTest, EveryHealthProbeInvocationParsesAndReachesTheNetwork) {
  // Pointed at a refusing port, a well-formed call fails to connect (2) in
  // grpc/http mode and finds no healthy port (4) in ports mode; bad flags
  // would exit 1 before any connection.
  HeldPort refusing(HeldPort::Mode::kRefusing);
  const std::string port = absl::StrCat(refusing.port());
  for (const ProbeCall& call : ProbeCalls()) {
    std::vector<std::string> argv = {ProbeBinary()};
    bool ports_mode = false;
    for (const std::string& arg : call.args) {
      const std::string name = FlagName(arg);
      if (name == "addr") {
        argv.push_back("-addr=127.0.0.1:" + port);
      } else if (name == "url") {
        argv.push_back("-url=http://127.0.0.1:" + port + "/health");
      } else if (name == "ports") {
        argv.push_back("-ports=" + port);
      } else if (name == "host") {
        argv.push_back("-host=127.0.0.1");
      } else {
        ports_mode |= arg == "-mode=ports";
        argv.push_back(arg);
      }
    }
    CommandResult r = RunCommand(argv);
    if (absl::c_linear_search(call.args, "-version")) {
      // Prints the version before any connection (a build-time check).
      EXPECT_EQ(r.exit_code, 0) << call.where << ": " << r.output;
      continue;
    }
    EXPECT_NE(r.exit_code, kProbeBadArguments)
        << call.where << ": " << absl::StrJoin(argv, " ") << "\n"
        << r.output;
    EXPECT_EQ(r.exit_code, ports_mode ? kProbeUnhealthy : kProbeConnectionFailed)
        << call.where << ": " << absl::StrJoin(argv, " ") << "\n"
        << r.output;
  }
}

TEST(DeployFilesTest, ContainerHealthCheckNumbersAgree) {
  DockerHealthcheck docker = DockerHealth();
  YAML::Node ecs = EcsContainer()["healthCheck"];
  EXPECT_EQ(Seconds(docker.options["interval"]), ecs["interval"].as<int>());
  EXPECT_EQ(Seconds(docker.options["timeout"]), ecs["timeout"].as<int>());
  EXPECT_EQ(Seconds(docker.options["start-period"]), ecs["startPeriod"].as<int>());
  EXPECT_EQ(std::stoi(docker.options["retries"]), ecs["retries"].as<int>());
  for (const char* file : kComposeFiles) {
    YAML::Node compose = ComposeServer(file)["healthcheck"];
    EXPECT_EQ(Seconds(compose["interval"].as<std::string>()), ecs["interval"].as<int>()) << file;
    EXPECT_EQ(Seconds(compose["timeout"].as<std::string>()), ecs["timeout"].as<int>()) << file;
    EXPECT_EQ(Seconds(compose["start_period"].as<std::string>()), ecs["startPeriod"].as<int>())
        << file;
    EXPECT_EQ(compose["retries"].as<int>(), ecs["retries"].as<int>()) << file;
  }
  // health_probe's own budget: 1 s connect + 1 s RPC (its defaults). The
  // container's timeout must not cut a slow-but-answering check short.
  EXPECT_GE(ecs["timeout"].as<int>(), 2);
  // ECS limits: interval 5..300, timeout 2..60, retries 1..10, startPeriod 0..300.
  EXPECT_GE(ecs["interval"].as<int>(), 5);
  EXPECT_LE(ecs["retries"].as<int>(), 10);
  EXPECT_LT(ecs["timeout"].as<int>(), ecs["interval"].as<int>());
}

TEST(DeployFilesTest, EveryServerFlagIsOneTheServerKnows) {
  CommandResult help = RunCommand({ServerBinary(), "--helpfull"});
  ASSERT_EQ(help.exit_code, 1) << help.output;             // absl's --helpfull exits 1
  std::vector<std::pair<std::string, std::string>> flags;  // where, flag
  for (const std::string& arg : DockerEntrypoint()) {
    if (absl::StartsWith(arg, "--")) flags.push_back({"Dockerfile ENTRYPOINT", arg});
  }
  for (const std::string& run : DockerInstructionsOf("RUN")) {
    std::vector<std::string> words = absl::StrSplit(run, ' ', absl::SkipWhitespace());
    bool in_server = false;
    for (const std::string& w : words) {
      if (w == "rtsp_test_server")
        in_server = true;
      else if (in_server && absl::StartsWith(w, "--"))
        flags.push_back({"Dockerfile RUN", w});
      else
        in_server = false;
    }
  }
  for (const std::string& arg : K8sContainer()["args"].as<std::vector<std::string>>()) {
    flags.push_back({"Kubernetes args", arg});
  }
  ASSERT_FALSE(flags.empty());
  for (const auto& [where, flag] : flags) {
    EXPECT_TRUE(absl::StrContains(help.output, absl::StrCat("--", FlagName(flag), " (")))
        << where << ": rtsp_test_server has no flag " << flag;
  }
}

TEST(DeployFilesTest, EntrypointServesTheShippedConfigOnPort8080) {
  std::vector<std::string> entrypoint = DockerEntrypoint();
  ASSERT_GE(entrypoint.size(), 3u);
  EXPECT_EQ(entrypoint[0], "/usr/local/bin/rtsp_test_server");
  EXPECT_EQ(entrypoint[1], "--config=/etc/rtsp-test-server/config.yaml");
  EXPECT_EQ(entrypoint[2], "--http_port=8080");
  EXPECT_TRUE(absl::StrContains(ReadRunfile("deploy/docker/Dockerfile"),
                                "COPY config/default.yaml /etc/rtsp-test-server/config.yaml"));
  // Kubernetes mounts its ConfigMap where the entrypoint reads the config.
  EXPECT_EQ(K8sContainer()["volumeMounts"][0]["mountPath"].as<std::string>(),
            "/etc/rtsp-test-server");
  EXPECT_EQ(K8sContainer()["args"][0].as<std::string>(), entrypoint[1]);
}

TEST(DeployFilesTest, PortsMatchTheConfigPlusGrpcAndHttp) {
  const std::set<int> expected = ExpectedPorts();
  ASSERT_EQ(expected, (std::set<int>{8554, 8555, 8556, 8557, kGrpcPort, kHttpPort}));

  std::set<int> exposed;
  for (const std::string& expose : DockerInstructionsOf("EXPOSE")) {
    for (absl::string_view p : absl::StrSplit(expose, ' ', absl::SkipEmpty())) {
      int port = 0;
      ASSERT_TRUE(absl::SimpleAtoi(absl::StripSuffix(p, "/tcp"), &port)) << p;
      exposed.insert(port);
    }
  }
  EXPECT_EQ(exposed, expected) << "Dockerfile EXPOSE";

  std::set<int> ecs;
  for (const YAML::Node& m : EcsContainer()["portMappings"]) {
    ecs.insert(m["containerPort"].as<int>());
    EXPECT_EQ(m["protocol"].as<std::string>(), "tcp");
  }
  EXPECT_EQ(ecs, expected) << "ECS portMappings";

  std::set<int> pod;
  for (const YAML::Node& p : K8sContainer()["ports"]) pod.insert(p["containerPort"].as<int>());
  EXPECT_EQ(pod, expected) << "Kubernetes containerPorts";

  std::set<int> service;
  std::set<std::string> port_names;
  for (const YAML::Node& p : K8sContainer()["ports"])
    port_names.insert(p["name"].as<std::string>());
  for (const YAML::Node& p : LoadRunfileYaml("deploy/kubernetes/service.yaml")["spec"]["ports"]) {
    service.insert(p["port"].as<int>());
    EXPECT_EQ(port_names.count(p["targetPort"].as<std::string>()), 1u) << p["targetPort"];
  }
  EXPECT_EQ(service, expected) << "Kubernetes Service";

  for (const char* file : kComposeFiles) {
    std::set<int> published;
    for (const YAML::Node& p : ComposeServer(file)["ports"]) {
      std::vector<std::string> sides = absl::StrSplit(p.as<std::string>(), ':');
      std::vector<std::string> range = absl::StrSplit(sides.back(), '-');
      const int first = std::stoi(range.front());
      const int last = std::stoi(range.back());
      for (int port = first; port <= last; ++port) published.insert(port);
    }
    EXPECT_EQ(published, expected) << file << " ports";
  }
}

TEST(DeployFilesTest, StopTimeoutsOutlastTheDrain) {
  // ECS: SIGKILL after stopTimeout; the drain comes from the environment.
  YAML::Node ecs = EcsContainer();
  int ecs_drain = -1;
  for (const YAML::Node& e : ecs["environment"]) {
    if (e["name"].as<std::string>() == "RTSP_TEST_DRAIN_TIMEOUT")
      ecs_drain = Seconds(e["value"].as<std::string>());
  }
  ASSERT_GT(ecs_drain, 0) << "the task definition sets RTSP_TEST_DRAIN_TIMEOUT";
  // The process needs ~2 s after the drain to stop (measured); keep 5 s.
  EXPECT_GE(ecs["stopTimeout"].as<int>(), ecs_drain + 5);
  EXPECT_LE(ecs["stopTimeout"].as<int>(), 120) << "Fargate's maximum";

  // Kubernetes: preStop sleep, then SIGTERM and the ConfigMap's drain.
  YAML::Node pod = LoadRunfileYaml("deploy/kubernetes/deployment.yaml")["spec"]["template"]["spec"];
  const int k8s_drain = Seconds(YAML::Load(ConfigMapConfig())["drain_timeout"].as<std::string>());
  std::vector<std::string> pre_stop =
      K8sContainer()["lifecycle"]["preStop"]["exec"]["command"].as<std::vector<std::string>>();
  ASSERT_EQ(pre_stop.size(), 2u);
  EXPECT_EQ(pre_stop[0], "/bin/sleep");
  EXPECT_GE(pod["terminationGracePeriodSeconds"].as<int>(), std::stoi(pre_stop[1]) + k8s_drain + 5);

  // Compose: stop_grace_period against the environment's drain.
  for (const char* file : kComposeFiles) {
    YAML::Node compose = ComposeServer(file);
    EXPECT_GE(Seconds(compose["stop_grace_period"].as<std::string>()),
              Seconds(compose["environment"]["RTSP_TEST_DRAIN_TIMEOUT"].as<std::string>()) + 5)
        << file;
    EXPECT_EQ(compose["stop_signal"].as<std::string>(), "SIGTERM") << file;
  }
  EXPECT_EQ(DockerInstructionsOf("STOPSIGNAL"), std::vector<std::string>{"SIGTERM"});
}

TEST(DeployFilesTest, ConfigsPassCheckConfig) {
  const std::string configmap = WriteTempFile("configmap-config.yaml", ConfigMapConfig());
  for (const std::string& path : {configmap, RunfilePath("config/default.yaml")}) {
    CommandResult r = RunCommand({ServerBinary(), "--config=" + path, "--check_config"});
    EXPECT_EQ(r.exit_code, 0) << path << "\n" << r.output;
    EXPECT_TRUE(absl::StrContains(r.output, "config OK: 4 listeners, 5 streams")) << r.output;
  }
}

TEST(DeployFilesTest, EveryRtspTestVariableIsOneTheServerReads) {
  // A variable the server reads fails --check_config when its value is bad
  // (exit 2) and passes with the value the deploy file gives it; an unknown
  // name would be ignored and pass both ways.
  std::vector<std::pair<std::string, std::string>> vars;  // name, value
  for (const YAML::Node& e : EcsContainer()["environment"]) {
    vars.push_back({e["name"].as<std::string>(), e["value"].as<std::string>()});
  }
  for (const char* file : kComposeFiles) {
    for (const auto& kv : ComposeServer(file)["environment"]) {
      vars.push_back({kv.first.as<std::string>(), kv.second.as<std::string>()});
    }
  }
  for (const YAML::Node& e : K8sContainer()["env"]) {
    const std::string name = e["name"].as<std::string>();
    // The process environment the pod needs on a read-only root file system
    // (KubernetesIsPodSecurityRestricted checks these).
    if (name == "TMPDIR" || name == "XDG_CACHE_HOME") continue;
    vars.push_back({name, e["value"].as<std::string>()});
  }
  ASSERT_FALSE(vars.empty());
  const std::string config = RunfilePath("config/default.yaml");
  for (const auto& [name, value] : vars) {
    ASSERT_TRUE(absl::StartsWith(name, "RTSP_TEST_")) << name;
    CommandResult good =
        RunCommand({ServerBinary(), "--config=" + config, "--check_config"}, {{name, value}});
    EXPECT_EQ(good.exit_code, 0) << name << "=" << value << "\n" << good.output;
    CommandResult bad = RunCommand({ServerBinary(), "--config=" + config, "--check_config"},
                                   {{name, "not-a-valid-value"}});
    EXPECT_EQ(bad.exit_code, kServerBadConfig) << name << " is not read by rtsp_test_server\n"
                                               << bad.output;
  }
}

TEST(DeployFilesTest, KubernetesProbesUseTheRightHealthNames) {
  YAML::Node c = K8sContainer();
  // Liveness must not restart the pod because an RTSP port is down: "control"
  // only turns NOT_SERVING when the process drains. Startup and readiness
  // follow the k-of-n rule ("").
  EXPECT_EQ(c["livenessProbe"]["grpc"]["service"].as<std::string>(), "control");
  EXPECT_EQ(c["readinessProbe"]["grpc"]["service"].as<std::string>(), "");
  EXPECT_EQ(c["startupProbe"]["grpc"]["service"].as<std::string>(), "");
  for (const char* probe : {"startupProbe", "livenessProbe", "readinessProbe"}) {
    EXPECT_EQ(c[probe]["grpc"]["port"].as<int>(), kGrpcPort) << probe;
    EXPECT_LE(c[probe]["timeoutSeconds"].as<int>(), c[probe]["periodSeconds"].as<int>() + 1)
        << probe;
  }
  // Start-up gets at least 20 s before the kubelet gives up (it takes ~1 s).
  EXPECT_GE(c["startupProbe"]["periodSeconds"].as<int>() *
                c["startupProbe"]["failureThreshold"].as<int>(),
            20);
}

TEST(DeployFilesTest, KubernetesProbeServicesAreServedByTheRealServer) {
  // The ConfigMap's config, with kernel-chosen ports so that tests can run in
  // parallel; the health names do not depend on the port numbers.
  YAML::Node config = YAML::Load(ConfigMapConfig());
  for (YAML::Node listener : config["listeners"]) listener["port"] = 0;
  YAML::Emitter out;
  out << config;
  ServerProcess server;
  if (!server.StartWithConfig(out.c_str()).ok()) {
    absl::StatusOr<int> exit_code = server.WaitForExit(absl::Seconds(5));
    FAIL() << "exit " << (exit_code.ok() ? *exit_code : -1000) << "\nconfig:\n"
           << out.c_str() << "\noutput:\n"
           << server.output();
  }
  const std::string addr = absl::StrCat("-addr=127.0.0.1:", server.grpc_port());

  YAML::Node c = K8sContainer();
  for (const char* probe : {"startupProbe", "livenessProbe", "readinessProbe"}) {
    const std::string service = c[probe]["grpc"]["service"].as<std::string>();
    // The monitor's first round turns "" SERVING within a moment of start.
    CommandResult r;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    do {
      r = RunCommand({ProbeBinary(), addr, "-service=" + service});
      if (r.exit_code == 0) break;
      absl::SleepFor(absl::Milliseconds(100));
    } while (absl::Now() < deadline);
    EXPECT_EQ(r.exit_code, 0) << probe << " service \"" << service << "\"\n" << r.output;
  }
  // A name the server does not publish is NOT_FOUND (exit 3), so the check
  // above would have caught a typo.
  EXPECT_EQ(RunCommand({ProbeBinary(), addr, "-service=controll"}).exit_code, 3);
  EXPECT_EQ(server.Stop(SIGTERM).value_or(-1), 0);
}

// ------------------------------------------------------ strict schemas

// The fields the Kubernetes API and the Compose specification define for the
// objects these files use, as a YAML "schema": a map lists the keys allowed
// ("*": any key), a one-element list is a list of that, and a scalar names a
// type: string, int, bool, port (number or name), quantity, duration, or
// "enum:A|B". A key outside the schema (a typo, a field at the wrong level)
// fails with its path, as `kubectl apply --validate=strict` and `docker
// compose config` would; neither tool runs here (no cluster, no Docker).
constexpr char kSchemas[] = R"yaml(
ObjectMeta: &meta {name: string, namespace: string, labels: {"*": string},
                   annotations: {"*": string}}
LabelSelector: &selector
  matchLabels: {"*": string}
  matchExpressions: [{key: string, operator: "enum:In|NotIn|Exists|DoesNotExist",
                      values: [string]}]
Handler: &handler
  exec: {command: [string]}
  sleep: {seconds: int}
  httpGet: &httpget {path: string, port: port, host: string, scheme: "enum:HTTP|HTTPS",
                     httpHeaders: [{name: string, value: string}]}
  tcpSocket: &tcpsocket {port: port, host: string}
Probe: &probe
  grpc: {port: int, service: string}
  httpGet: *httpget
  tcpSocket: *tcpsocket
  exec: {command: [string]}
  initialDelaySeconds: int
  periodSeconds: int
  timeoutSeconds: int
  failureThreshold: int
  successThreshold: int
  terminationGracePeriodSeconds: int
Seccomp: &seccomp {type: "enum:RuntimeDefault|Localhost|Unconfined", localhostProfile: string}
Resources: &resources {cpu: quantity, memory: quantity, ephemeral-storage: quantity}
ServicePort: &serviceport
  name: string
  port: int
  targetPort: port
  nodePort: int
  protocol: "enum:TCP|UDP|SCTP"
  appProtocol: string
Service: &service
  apiVersion: "enum:v1"
  kind: "enum:Service"
  metadata: *meta
  spec:
    type: "enum:ClusterIP|NodePort|LoadBalancer|ExternalName"
    selector: {"*": string}
    ports: [*serviceport]
    externalTrafficPolicy: "enum:Cluster|Local"
    internalTrafficPolicy: "enum:Cluster|Local"
    loadBalancerSourceRanges: [string]
    loadBalancerClass: string
    sessionAffinity: "enum:None|ClientIP"
    publishNotReadyAddresses: bool
ConfigMap:
  apiVersion: "enum:v1"
  kind: "enum:ConfigMap"
  metadata: *meta
  data: {"*": string}
Deployment:
  apiVersion: "enum:apps/v1"
  kind: "enum:Deployment"
  metadata: *meta
  spec:
    replicas: int
    revisionHistoryLimit: int
    minReadySeconds: int
    progressDeadlineSeconds: int
    selector: *selector
    strategy:
      type: "enum:RollingUpdate|Recreate"
      rollingUpdate: {maxUnavailable: port, maxSurge: port}
    template:
      metadata: *meta
      spec:
        terminationGracePeriodSeconds: int
        automountServiceAccountToken: bool
        serviceAccountName: string
        enableServiceLinks: bool
        hostNetwork: bool
        hostPID: bool
        hostIPC: bool
        nodeSelector: {"*": string}
        priorityClassName: string
        securityContext:
          runAsNonRoot: bool
          runAsUser: int
          runAsGroup: int
          fsGroup: int
          fsGroupChangePolicy: "enum:Always|OnRootMismatch"
          supplementalGroups: [int]
          seccompProfile: *seccomp
        containers:
          - name: string
            image: string
            imagePullPolicy: "enum:Always|IfNotPresent|Never"
            command: [string]
            args: [string]
            env: [{name: string, value: string}]
            ports: [{name: string, containerPort: int, protocol: "enum:TCP|UDP|SCTP",
                     hostPort: int}]
            startupProbe: *probe
            livenessProbe: *probe
            readinessProbe: *probe
            lifecycle: {preStop: *handler, postStart: *handler}
            resources: {requests: *resources, limits: *resources}
            securityContext:
              runAsNonRoot: bool
              runAsUser: int
              runAsGroup: int
              privileged: bool
              allowPrivilegeEscalation: bool
              readOnlyRootFilesystem: bool
              capabilities: {drop: [string], add: [string]}
              seccompProfile: *seccomp
            volumeMounts: [{name: string, mountPath: string, readOnly: bool, subPath: string}]
        volumes:
          - name: string
            configMap: {name: string, defaultMode: int, items: [{key: string, path: string}]}
            emptyDir: {medium: "enum:Memory", sizeLimit: quantity}
NetworkPolicyPort: &npport {protocol: "enum:TCP|UDP|SCTP", port: port, endPort: int}
NetworkPolicyPeer: &nppeer
  podSelector: *selector
  namespaceSelector: *selector
  ipBlock: {cidr: string, except: [string]}
NetworkPolicy:
  apiVersion: "enum:networking.k8s.io/v1"
  kind: "enum:NetworkPolicy"
  metadata: *meta
  spec:
    podSelector: *selector
    policyTypes: ["enum:Ingress|Egress"]
    ingress: [{from: [*nppeer], ports: [*npport]}]
    egress: [{to: [*nppeer], ports: [*npport]}]
Kustomization:
  apiVersion: "enum:kustomize.config.k8s.io/v1beta1"
  kind: "enum:Kustomization"
  namespace: string
  resources: [string]
  components: [string]
  labels: [{pairs: {"*": string}, includeSelectors: bool, includeTemplates: bool}]
  images: [{name: string, newName: string, newTag: string, digest: string}]
Component:
  apiVersion: "enum:kustomize.config.k8s.io/v1alpha1"
  kind: "enum:Component"
  resources: [string]
ComposeFile:
  name: string
  services:
    "*":
      build: {context: string, dockerfile: string, args: {"*": string}}
      image: string
      init: bool
      ports: [string]
      environment: {"*": string}
      healthcheck: {test: [string], interval: duration, timeout: duration, retries: int,
                    start_period: duration, start_interval: duration, disable: bool}
      stop_signal: string
      stop_grace_period: duration
      depends_on:
        "*": {condition: "enum:service_started|service_healthy|service_completed_successfully",
              restart: bool, required: bool}
      entrypoint: [string]
      command: [string]
      restart: "enum:no|always|on-failure|unless-stopped"
      read_only: bool
      tmpfs: [string]
      cap_drop: [string]
      cap_add: [string]
      security_opt: [string]
      volumes: [string]
      user: string
)yaml";

bool IsInt(const std::string& text) {
  int64_t value = 0;
  return absl::SimpleAtoi(text, &value);
}

// Appends one line per violation of `schema` in `node` to `errors`.
void CheckSchema(const YAML::Node& node, const YAML::Node& schema, const std::string& path,
                 std::vector<std::string>* errors) {
  if (schema.IsMap()) {
    if (!node.IsMap()) {
      errors->push_back(path + ": expected a map");
      return;
    }
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      const YAML::Node field = schema[key] ? schema[key] : schema["*"];
      if (!field) {
        errors->push_back(absl::StrCat(path, ".", key, ": unknown field"));
        continue;
      }
      CheckSchema(kv.second, field, absl::StrCat(path, ".", key), errors);
    }
    return;
  }
  if (schema.IsSequence()) {
    if (!node.IsSequence()) {
      errors->push_back(path + ": expected a list");
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      CheckSchema(node[i], schema[0], absl::StrCat(path, "[", i, "]"), errors);
    }
    return;
  }
  const std::string type = schema.as<std::string>();
  if (!node.IsScalar()) {
    errors->push_back(absl::StrCat(path, ": expected a ", type));
    return;
  }
  const std::string value = node.as<std::string>();
  // A quoted scalar ("8080") is a string to Kubernetes, never a number.
  const bool quoted = node.Tag() == "!";
  bool ok = true;
  if (type == "int") {
    ok = !quoted && IsInt(value);
  } else if (type == "bool") {
    ok = !quoted && (value == "true" || value == "false");
  } else if (type == "port" || type == "quantity") {
    ok = quoted || IsInt(value) || !value.empty();
  } else if (type == "duration") {
    ok = !value.empty() && absl::ascii_isdigit(value[0]);
  } else if (absl::StartsWith(type, "enum:")) {
    std::vector<std::string> allowed = absl::StrSplit(type.substr(5), '|');
    ok = absl::c_linear_search(allowed, value);
  }
  if (!ok) errors->push_back(absl::StrCat(path, ": \"", value, "\" is not a ", type));
}

std::string SchemaErrors(const std::string& file, const std::string& schema_name) {
  std::vector<std::string> errors;
  YAML::Node schemas = YAML::Load(kSchemas);
  if (!schemas[schema_name]) return "no schema " + schema_name;
  CheckSchema(LoadRunfileYaml(file), schemas[schema_name], file, &errors);
  return absl::StrJoin(errors, "\n");
}

const std::vector<std::pair<std::string, std::string>>& KubernetesFiles() {
  static const auto* files = new std::vector<std::pair<std::string, std::string>>{
      {"deploy/kubernetes/kustomization.yaml", "Kustomization"},
      {"deploy/kubernetes/configmap.yaml", "ConfigMap"},
      {"deploy/kubernetes/deployment.yaml", "Deployment"},
      {"deploy/kubernetes/service.yaml", "Service"},
      {"deploy/kubernetes/networkpolicy.yaml", "NetworkPolicy"},
      {"deploy/kubernetes/components/rtsp-loadbalancer/kustomization.yaml", "Component"},
      {"deploy/kubernetes/components/rtsp-loadbalancer/service-rtsp-lb.yaml", "Service"},
  };
  return *files;
}

TEST(DeployFilesTest, ManifestsHaveOnlyFieldsTheirSchemaDefines) {
  for (const auto& [file, schema] : KubernetesFiles()) {
    EXPECT_EQ(SchemaErrors(file, schema), "") << file;
    EXPECT_EQ(LoadRunfileYaml(file)["kind"].as<std::string>(), schema) << file;
  }
  for (const char* file : kComposeFiles) EXPECT_EQ(SchemaErrors(file, "ComposeFile"), "") << file;
}

TEST(DeployFilesTest, SchemaCheckCatchesTyposAndWrongTypes) {
  YAML::Node schemas = YAML::Load(kSchemas);
  auto errors = [&](const std::string& yaml, const std::string& schema) {
    std::vector<std::string> out;
    CheckSchema(YAML::Load(yaml), schemas[schema], "x", &out);
    return absl::StrJoin(out, "\n");
  };
  EXPECT_EQ(errors("{kind: NetworkPolicy, spec: {ingres: []}}", "NetworkPolicy"),
            "x.spec.ingres: unknown field");
  EXPECT_EQ(errors("{spec: {template: {spec: {securityContext: {seccompProfile: "
                   "{type: Default}}}}}}",
                   "Deployment"),
            "x.spec.template.spec.securityContext.seccompProfile.type: \"Default\" is not a "
            "enum:RuntimeDefault|Localhost|Unconfined");
  EXPECT_EQ(
      errors("{spec: {template: {spec: {automountServiceAccountToken: \"false\"}}}}", "Deployment"),
      "x.spec.template.spec.automountServiceAccountToken: \"false\" is not a bool");
  EXPECT_EQ(errors("{services: {s: {read_only: yes-please}}}", "ComposeFile"),
            "x.services.s.read_only: \"yes-please\" is not a bool");
}

// ------------------------------------------- Kubernetes: Pod Security

std::vector<std::string> StringList(const YAML::Node& node) {
  return node ? node.as<std::vector<std::string>>() : std::vector<std::string>{};
}

// The uid the image runs as (USER uid:gid).
int DockerUid() {
  std::vector<std::string> users = DockerInstructionsOf("USER");
  EXPECT_EQ(users.size(), 1u);
  int uid = -1;
  if (!users.empty()) {
    EXPECT_TRUE(absl::SimpleAtoi(users[0].substr(0, users[0].find(':')), &uid)) << users[0];
  }
  return uid;
}

TEST(DeployFilesTest, KubernetesIsPodSecurityRestricted) {
  // https://kubernetes.io/docs/concepts/security/pod-security-standards/ ,
  // "restricted", every control this pod could trip.
  YAML::Node pod = LoadRunfileYaml("deploy/kubernetes/deployment.yaml")["spec"]["template"]["spec"];
  YAML::Node psc = pod["securityContext"];
  EXPECT_TRUE(psc["runAsNonRoot"].as<bool>(false));
  EXPECT_EQ(psc["seccompProfile"]["type"].as<std::string>(""), "RuntimeDefault");
  EXPECT_EQ(psc["runAsUser"].as<int>(0), DockerUid()) << "the image's USER";
  EXPECT_NE(psc["runAsUser"].as<int>(0), 0);
  EXPECT_FALSE(pod["automountServiceAccountToken"].as<bool>(true));
  for (const char* host : {"hostNetwork", "hostPID", "hostIPC"}) {
    EXPECT_FALSE(pod[host].as<bool>(false)) << host;
  }
  std::set<std::string> volume_names;
  std::set<std::string> empty_dirs;
  for (const YAML::Node& v : pod["volumes"]) {
    // Restricted allows configMap, emptyDir (and a few others), never hostPath.
    EXPECT_TRUE(v["configMap"] || v["emptyDir"]) << v["name"];
    volume_names.insert(v["name"].as<std::string>());
    if (v["emptyDir"]) {
      empty_dirs.insert(v["name"].as<std::string>());
      EXPECT_TRUE(v["emptyDir"]["sizeLimit"]) << "a bounded emptyDir";
    }
  }
  ASSERT_EQ(pod["containers"].size(), 1u);
  for (const YAML::Node& c : pod["containers"]) {
    YAML::Node sc = c["securityContext"];
    EXPECT_FALSE(sc["allowPrivilegeEscalation"].as<bool>(true));
    EXPECT_FALSE(sc["privileged"].as<bool>(false));
    EXPECT_TRUE(sc["runAsNonRoot"].as<bool>(false));
    EXPECT_TRUE(sc["readOnlyRootFilesystem"].as<bool>(false));
    EXPECT_EQ(StringList(sc["capabilities"]["drop"]), std::vector<std::string>{"ALL"});
    EXPECT_TRUE(StringList(sc["capabilities"]["add"]).empty());
    EXPECT_EQ(sc["seccompProfile"]["type"].as<std::string>(""), "RuntimeDefault");
    for (const YAML::Node& p : c["ports"]) EXPECT_FALSE(p["hostPort"]) << p["name"];
    // What the server writes goes to an emptyDir: TMPDIR (the font cache
    // fallback, core/font_cache) and XDG_CACHE_HOME sit in a writable mount.
    std::map<std::string, std::string> env;
    for (const YAML::Node& e : c["env"])
      env[e["name"].as<std::string>()] = e["value"].as<std::string>();
    std::vector<std::string> writable;
    for (const YAML::Node& m : c["volumeMounts"]) {
      EXPECT_EQ(volume_names.count(m["name"].as<std::string>()), 1u) << m["name"];
      if (empty_dirs.count(m["name"].as<std::string>()) && !m["readOnly"].as<bool>(false)) {
        writable.push_back(m["mountPath"].as<std::string>());
      }
    }
    ASSERT_FALSE(writable.empty());
    for (const char* var : {"TMPDIR", "XDG_CACHE_HOME"}) {
      ASSERT_TRUE(env.count(var)) << var;
      EXPECT_TRUE(absl::c_any_of(writable,
                                 [&](const std::string& dir) {
                                   return env[var] == dir || absl::StartsWith(env[var], dir + "/");
                                 }))
          << var << "=" << env[var] << " is not in a writable emptyDir";
    }
    // The image's GStreamer registry is only current for the image's HOME.
    EXPECT_EQ(env.count("HOME"), 0u);
    EXPECT_EQ(env.count("GST_REGISTRY"), 0u);
  }
}

// ----------------------------------------- Kubernetes: network, image

// Port numbers a NetworkPolicy rule's `ports` opens.
std::set<int> RulePorts(const YAML::Node& rule) {
  std::set<int> ports;
  for (const YAML::Node& p : rule["ports"]) {
    const int first = p["port"].as<int>();
    const int last = p["endPort"] ? p["endPort"].as<int>() : first;
    for (int port = first; port <= last; ++port) ports.insert(port);
  }
  return ports;
}

TEST(DeployFilesTest, NetworkPolicyKeepsGrpcInTheCluster) {
  YAML::Node policy = LoadRunfileYaml("deploy/kubernetes/networkpolicy.yaml")["spec"];
  YAML::Node deployment = LoadRunfileYaml("deploy/kubernetes/deployment.yaml");
  // It selects the pod.
  for (const auto& kv : policy["podSelector"]["matchLabels"]) {
    EXPECT_EQ(deployment["spec"]["template"]["metadata"]["labels"][kv.first.as<std::string>()]
                  .as<std::string>(""),
              kv.second.as<std::string>());
  }
  EXPECT_EQ(StringList(policy["policyTypes"]), std::vector<std::string>{"Ingress"});
  std::set<int> from_anywhere;
  std::set<int> in_cluster;
  for (const YAML::Node& rule : policy["ingress"]) {
    ASSERT_TRUE(rule["ports"]) << "a rule without ports opens every port";
    if (!rule["from"]) {
      for (int p : RulePorts(rule)) from_anywhere.insert(p);
      continue;
    }
    for (const YAML::Node& peer : rule["from"]) {
      // Pods only: an ipBlock could name addresses outside the cluster.
      EXPECT_FALSE(peer["ipBlock"]);
      EXPECT_TRUE(peer["podSelector"] || peer["namespaceSelector"]);
    }
    for (int p : RulePorts(rule)) in_cluster.insert(p);
  }
  std::set<int> rtsp_and_http = ExpectedPorts();
  rtsp_and_http.erase(kGrpcPort);
  EXPECT_EQ(from_anywhere, rtsp_and_http);
  EXPECT_EQ(in_cluster, std::set<int>{kGrpcPort});
  // Every port the container serves is reachable by some rule.
  std::set<int> all = from_anywhere;
  all.insert(in_cluster.begin(), in_cluster.end());
  EXPECT_EQ(all, ExpectedPorts());
}

TEST(DeployFilesTest, LoadBalancerServiceIsOptionalAndNeverOpensGrpc) {
  YAML::Node kustomization = LoadRunfileYaml("deploy/kubernetes/kustomization.yaml");
  // The base: every manifest beside it except the optional component.
  EXPECT_EQ(StringList(kustomization["resources"]),
            (std::vector<std::string>{"configmap.yaml", "deployment.yaml", "service.yaml",
                                      "networkpolicy.yaml"}));
  EXPECT_FALSE(kustomization["components"]);
  EXPECT_EQ(LoadRunfileYaml("deploy/kubernetes/service.yaml")["spec"]["type"].as<std::string>(),
            "ClusterIP");

  YAML::Node component =
      LoadRunfileYaml("deploy/kubernetes/components/rtsp-loadbalancer/kustomization.yaml");
  EXPECT_EQ(StringList(component["resources"]), std::vector<std::string>{"service-rtsp-lb.yaml"});
  YAML::Node lb =
      LoadRunfileYaml("deploy/kubernetes/components/rtsp-loadbalancer/service-rtsp-lb.yaml");
  EXPECT_EQ(lb["spec"]["type"].as<std::string>(), "LoadBalancer");
  EXPECT_NE(lb["metadata"]["name"].as<std::string>(),
            LoadRunfileYaml("deploy/kubernetes/service.yaml")["metadata"]["name"].as<std::string>())
      << "its own Service, beside the ClusterIP one";
  std::set<std::string> port_names;
  for (const YAML::Node& p : K8sContainer()["ports"])
    port_names.insert(p["name"].as<std::string>());
  std::set<int> ports;
  for (const YAML::Node& p : lb["spec"]["ports"]) {
    ports.insert(p["port"].as<int>());
    EXPECT_EQ(port_names.count(p["targetPort"].as<std::string>()), 1u) << p["targetPort"];
  }
  std::set<int> rtsp_and_http = ExpectedPorts();
  rtsp_and_http.erase(kGrpcPort);
  EXPECT_EQ(ports, rtsp_and_http);
  YAML::Node pod_labels = LoadRunfileYaml(
      "deploy/kubernetes/deployment.yaml")["spec"]["template"]["metadata"]["labels"];
  for (const auto& kv : lb["spec"]["selector"]) {
    EXPECT_EQ(pod_labels[kv.first.as<std::string>()].as<std::string>(""),
              kv.second.as<std::string>());
  }
}

// The product version, as the real server prints it ("rtsp_test_server 0.1.0 (...").
std::string ServerVersion() {
  CommandResult r = RunCommand({ServerBinary(), "--version"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::string> words = absl::StrSplit(r.output, ' ');
  return words.size() > 1 ? words[1] : "";
}

TEST(DeployFilesTest, ImageReferencesAreRealAndVersioned) {
  const std::string version = ServerVersion();
  ASSERT_FALSE(version.empty());
  // Kubernetes: the Deployment names the image, kustomize's `images:` gives
  // it a registry, repository and the product version as its tag.
  const std::string image = K8sContainer()["image"].as<std::string>();
  YAML::Node images = LoadRunfileYaml("deploy/kubernetes/kustomization.yaml")["images"];
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0]["name"].as<std::string>(), image);
  const std::string new_name = images[0]["newName"].as<std::string>("");
  std::vector<std::string> parts = absl::StrSplit(new_name, '/');
  EXPECT_GE(parts.size(), 2u) << new_name;
  EXPECT_TRUE(absl::StrContains(parts[0], ".")) << "a registry host: " << new_name;
  EXPECT_EQ(images[0]["newTag"].as<std::string>(""), version);
  // The Dockerfile's VERSION label default.
  EXPECT_TRUE(absl::c_linear_search(DockerInstructionsOf("ARG"), "VERSION=" + version))
      << absl::StrJoin(DockerInstructionsOf("ARG"), "\n");
}

// ----------------------------------------------------------- Dockerfile

// The instructions of one stage (FROM ... AS <name>).
std::vector<std::string> DockerStage(const std::string& name) {
  std::vector<std::string> out;
  bool in_stage = false;
  for (const std::string& i : DockerInstructions()) {
    if (absl::StartsWith(i, "FROM ")) in_stage = absl::EndsWith(i, " AS " + name);
    if (in_stage) out.push_back(i);
  }
  return out;
}

// Package names from a list file: one a line, # comments.
std::vector<std::string> PackageList(const std::string& relative) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(ReadRunfile(relative), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty() && line[0] != '#') out.emplace_back(line);
  }
  return out;
}

TEST(DeployFilesTest, DockerfileSyntaxLineAndOciLabels) {
  const std::string dockerfile = ReadRunfile("deploy/docker/Dockerfile");
  EXPECT_TRUE(absl::StartsWith(dockerfile, "# syntax=docker/dockerfile:1\n"));
  std::map<std::string, std::string> labels;
  for (const std::string& label : DockerInstructionsOf("LABEL")) {
    // key="value" pairs; values hold spaces but no quotes.
    std::vector<std::string> pieces = absl::StrSplit(label, '"');
    for (size_t i = 0; i + 1 < pieces.size(); i += 2) {
      std::string key(absl::StripAsciiWhitespace(pieces[i]));
      labels[std::string(absl::StripSuffix(key, "="))] = pieces[i + 1];
    }
  }
  const std::map<std::string, std::string> from_args = {
      {"org.opencontainers.image.version", "${VERSION}"},
      {"org.opencontainers.image.revision", "${REVISION}"},
      {"org.opencontainers.image.source", "${SOURCE}"},
  };
  for (const auto& [key, value] : from_args) EXPECT_EQ(labels[key], value) << key;
  for (const char* key :
       {"org.opencontainers.image.title", "org.opencontainers.image.description"}) {
    EXPECT_FALSE(labels[key].empty()) << key;
  }
  // The labels and their build args belong to the runtime stage (the image).
  std::vector<std::string> runtime = DockerStage("runtime");
  for (const char* arg : {"ARG VERSION=", "ARG REVISION=", "ARG SOURCE="}) {
    EXPECT_TRUE(absl::c_any_of(runtime, [&](const std::string& i) {
      return absl::StartsWith(i, arg);
    })) << arg;
  }
  EXPECT_TRUE(absl::c_any_of(runtime, [](const std::string& i) {
    return absl::StartsWith(i, "LABEL org.opencontainers.image.");
  }));
}

TEST(DeployFilesTest, ImageStagesInstallNoTestOnlyPackages) {
  const std::vector<std::string> all = PackageList("bazel/debian-packages.txt");
  const std::vector<std::string> test_only = PackageList("deploy/docker/test-only-packages.txt");
  for (const char* p : {"chromium", "nginx-light", "wrk", "hyperfine"}) {
    EXPECT_TRUE(absl::c_linear_search(test_only, p)) << p;
  }
  for (const std::string& p : test_only) {
    EXPECT_TRUE(absl::c_linear_search(all, p)) << p << " is not in bazel/debian-packages.txt";
  }
  // The build stage installs the list less the test-only names.
  const std::string build = absl::StrJoin(DockerStage("build"), "\n");
  EXPECT_TRUE(absl::StrContains(
      build, "COPY deploy/docker/test-only-packages.txt /tmp/test-only-packages.txt"));
  EXPECT_TRUE(absl::StrContains(build, "grep -vxFf /tmp/exclude.txt")) << build;
  // No apt-get install of either stage names one.
  for (const std::string& i : DockerInstructions()) {
    if (!absl::StrContains(i, "apt-get install")) continue;
    for (absl::string_view word : absl::StrSplit(i, absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
      EXPECT_FALSE(absl::c_linear_search(test_only, std::string(word))) << word << " in " << i;
    }
  }
}

TEST(DeployFilesTest, ImageWarmsFontAndGstreamerCachesForTheRuntimeHome) {
  std::vector<std::string> runtime = DockerStage("runtime");
  auto index_of = [&](const std::string& prefix, const std::string& contains = "") {
    for (size_t i = 0; i < runtime.size(); ++i) {
      if (absl::StartsWith(runtime[i], prefix) && absl::StrContains(runtime[i], contains)) {
        return static_cast<int>(i);
      }
    }
    return -1;
  };
  const int home = index_of("ENV HOME=");
  const int registry = index_of("ENV GST_REGISTRY=");
  const int warm = index_of("RUN ", "gst-inspect-1.0 > /dev/null");
  const int fonts = index_of("RUN ", "fc-cache -f");
  const int user = index_of("USER ");
  const int check = index_of("RUN ", "Registry cache has not changed");
  ASSERT_GE(home, 0);
  ASSERT_GE(registry, 0);
  ASSERT_GE(warm, 0);
  ASSERT_GE(fonts, 0);
  ASSERT_GE(check, 0);
  // The registry is built with the HOME and GST_REGISTRY the runtime has,
  // before the image drops root, and checked as the runtime uid.
  EXPECT_LT(home, warm);
  EXPECT_LT(registry, warm);
  EXPECT_LT(warm, user);
  EXPECT_LT(user, check);
  EXPECT_TRUE(absl::StrContains(runtime[warm], "chmod 0644 \"$GST_REGISTRY\"")) << runtime[warm];
  EXPECT_EQ(runtime[home], "ENV HOME=/var/lib/rtsp-test-server");
  // The registry lives outside HOME and /tmp (an emptyDir on Kubernetes).
  EXPECT_TRUE(absl::StartsWith(runtime[registry], "ENV GST_REGISTRY=/var/cache/"));
}

// ------------------------------------------- test_health_checks.py uses

std::string ScriptPath() { return RunfilePath("scripts/test_health_checks.py"); }

// `python3 scripts/test_health_checks.py args... --dry-run`: the checks the
// arguments ask for, without contacting anything; exit 2 on bad arguments.
CommandResult DryRunScript(std::vector<std::string> args) {
  std::vector<std::string> argv = {"/usr/bin/python3", ScriptPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--dry-run");
  return RunCommand(argv);
}

// Every test_health_checks.py command line in the workflow's `run:` scripts,
// continuation lines joined.
std::vector<std::vector<std::string>> WorkflowScriptCalls() {
  std::vector<std::vector<std::string>> calls;
  YAML::Node workflow = LoadRunfileYaml(".github/workflows/image.yml");
  for (const auto& job : workflow["jobs"]) {
    for (const YAML::Node& step : job.second["steps"]) {
      if (!step["run"]) continue;
      const std::string script =
          absl::StrReplaceAll(step["run"].as<std::string>(), {{"\\\n", " "}});
      for (absl::string_view line : absl::StrSplit(script, '\n')) {
        std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipWhitespace());
        for (size_t i = 0; i < words.size(); ++i) {
          if (words[i] != "scripts/test_health_checks.py") continue;
          std::vector<std::string> args;
          for (size_t j = i + 1; j < words.size() && absl::StartsWith(words[j], "--"); ++j) {
            // `if ... --timeout=1; then`: the command ends at the `;`.
            args.push_back(std::string(absl::StripSuffix(words[j], ";")));
            if (absl::EndsWith(words[j], ";")) break;
          }
          calls.push_back(args);
        }
      }
    }
  }
  return calls;
}

TEST(DeployFilesTest, EveryTestHealthChecksCallParses) {
  // Compose's checker service, against the server by its service name.
  YAML::Node checker =
      LoadRunfileYaml("deploy/compose/docker-compose.health-test.yml")["services"]["health-checks"];
  std::vector<std::string> command = StringList(checker["command"]);
  ASSERT_GE(command.size(), 2u);
  EXPECT_EQ(command[0], "python3");
  EXPECT_EQ(command[1], "/scripts/test_health_checks.py");
  EXPECT_EQ(StringList(checker["volumes"]), std::vector<std::string>{"../../scripts:/scripts:ro"});
  EXPECT_EQ(checker["depends_on"]["rtsp-test-server"]["condition"].as<std::string>(),
            "service_healthy");
  CommandResult r = DryRunScript(std::vector<std::string>(command.begin() + 2, command.end()));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // The same checks as ECS and the NLB: gRPC and HTTP on the server, and
  // every RTSP port of the config.
  EXPECT_TRUE(absl::StrContains(r.output, "grpc Check    rtsp-test-server:50051")) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "http GET      http://rtsp-test-server:8080/health"))
      << r.output;
  for (int port : ExpectedPorts()) {
    if (port == kGrpcPort || port == kHttpPort) continue;
    EXPECT_TRUE(absl::StrContains(
        r.output, absl::StrCat("rtsp DESCRIBE rtsp://rtsp-test-server:", port, "/cam1")))
        << port << "\n"
        << r.output;
  }

  // The workflow's calls.
  std::vector<std::vector<std::string>> calls = WorkflowScriptCalls();
  ASSERT_GE(calls.size(), 3u);
  for (const std::vector<std::string>& args : calls) {
    CommandResult w = DryRunScript(args);
    EXPECT_EQ(w.exit_code, 0) << absl::StrJoin(args, " ") << "\n" << w.output;
  }
  // The defaults (the seed's bare `python scripts/test_health_checks.py`)
  // check what the health-test Compose file publishes on localhost.
  CommandResult defaults = DryRunScript({});
  EXPECT_EQ(defaults.exit_code, 0) << defaults.output;
  EXPECT_TRUE(absl::StrContains(defaults.output, "localhost:50051")) << defaults.output;
  EXPECT_TRUE(absl::StrContains(defaults.output, "http://localhost:8080/health"))
      << defaults.output;
  // And the dry run does check its arguments.
  EXPECT_EQ(DryRunScript({"--rtsp=host:port"}).exit_code, 2);
}

TEST(DeployFilesTest, WorkflowBuildsTheImageAndChecksIt) {
  YAML::Node workflow = LoadRunfileYaml(".github/workflows/image.yml");
  ASSERT_TRUE(workflow["jobs"]["image"]) << "job `image`";
  std::string all_runs;
  for (const YAML::Node& step : workflow["jobs"]["image"]["steps"]) {
    if (step["run"]) absl::StrAppend(&all_runs, step["run"].as<std::string>(), "\n");
  }
  EXPECT_TRUE(absl::StrContains(all_runs, "docker build -f deploy/docker/Dockerfile"));
  for (const char* arg : {"--build-arg VERSION=", "--build-arg REVISION=", "--build-arg SOURCE="}) {
    EXPECT_TRUE(absl::StrContains(all_runs, arg)) << arg;
  }
  // It runs the image the way Kubernetes does, and the Compose test bed.
  EXPECT_TRUE(absl::StrContains(all_runs, "--read-only")) << all_runs;
  EXPECT_TRUE(absl::StrContains(all_runs, "--cap-drop ALL")) << all_runs;
  EXPECT_TRUE(absl::StrContains(all_runs,
                                "docker compose -f deploy/compose/docker-compose.health-test.yml"))
      << all_runs;
  // The version it reads is the one the server reports.
  EXPECT_TRUE(absl::StrContains(all_runs, "common/version/version.h"));
}

// ------------------------------------------------------------ timings

// The health monitor's own interval and timeout, from a real server's
// "health monitor started" log line with the shipped config.
std::map<std::string, int> ServerHealthTimings() {
  YAML::Node config = LoadRunfileYaml("config/default.yaml");
  for (YAML::Node listener : config["listeners"]) listener["port"] = 0;
  YAML::Emitter out;
  out << config;
  ServerProcess server;
  std::map<std::string, int> timings;
  if (!server.StartWithConfig(out.c_str(), {"--bind=127.0.0.1"}).ok()) {
    ADD_FAILURE() << server.output();
    return timings;
  }
  for (absl::string_view line : absl::StrSplit(server.output(), '\n')) {
    if (!absl::StrContains(line, "\"msg\":\"health monitor started\"")) continue;
    YAML::Node record = YAML::Load(std::string(line));  // JSON is YAML
    timings["interval"] = Seconds(record["interval"].as<std::string>());
    timings["timeout"] = Seconds(record["timeout"].as<std::string>());
  }
  EXPECT_EQ(server.Stop(SIGTERM).value_or(-1), 0);
  return timings;
}

TEST(DeployFilesTest, KubernetesAndContainerTimingsFollowTheServersDefaults) {
  std::map<std::string, int> monitor = ServerHealthTimings();
  ASSERT_EQ(monitor.size(), 2u) << "no \"health monitor started\" line";
  YAML::Node ecs = EcsContainer()["healthCheck"];
  const int interval = ecs["interval"].as<int>();
  const int timeout = ecs["timeout"].as<int>();
  const int retries = ecs["retries"].as<int>();
  const int start_period = ecs["startPeriod"].as<int>();
  // A container check no more often than the monitor decides, and its
  // retries outlast one monitor round (a transient), as the Dockerfile says.
  EXPECT_GE(interval, monitor["interval"]);
  EXPECT_GE((retries - 1) * interval, monitor["interval"]);
  // The monitor's probe (TCP + OPTIONS) fits inside its own round.
  EXPECT_LE(monitor["timeout"], monitor["interval"]);

  YAML::Node c = K8sContainer();
  for (const char* probe : {"startupProbe", "livenessProbe", "readinessProbe"}) {
    // health_probe's budget and the kubelet's: the same call, the same limit.
    EXPECT_EQ(c[probe]["timeoutSeconds"].as<int>(), timeout) << probe;
  }
  // Readiness follows the container check's rhythm, and turns a pod NotReady
  // no later than ECS would call the task unhealthy.
  EXPECT_EQ(c["readinessProbe"]["periodSeconds"].as<int>(), interval);
  EXPECT_GE(c["readinessProbe"]["periodSeconds"].as<int>(), monitor["interval"]);
  EXPECT_LE(c["readinessProbe"]["periodSeconds"].as<int>() *
                c["readinessProbe"]["failureThreshold"].as<int>(),
            interval * retries);
  // A pod gets at least as long to start as an ECS task does before its
  // failed checks count (start period, then `retries` failures).
  EXPECT_GE(c["startupProbe"]["periodSeconds"].as<int>() *
                c["startupProbe"]["failureThreshold"].as<int>(),
            start_period + interval * retries);
  // Liveness is slower than readiness: it restarts, readiness only reroutes.
  EXPECT_GE(c["livenessProbe"]["periodSeconds"].as<int>() *
                c["livenessProbe"]["failureThreshold"].as<int>(),
            c["readinessProbe"]["periodSeconds"].as<int>() *
                c["readinessProbe"]["failureThreshold"].as<int>());
}

}  // namespace
}  // namespace rtsptest::testing
