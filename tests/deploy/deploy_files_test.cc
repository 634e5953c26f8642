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
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

YAML::Node ComposeServer() {
  return LoadRunfileYaml("deploy/compose/docker-compose.yml")["services"]["rtsp-test-server"];
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
  from_exec_form("compose healthcheck",
                 ComposeServer()["healthcheck"]["test"].as<std::vector<std::string>>());
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
  ASSERT_GE(calls.size(), 4u);
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
  YAML::Node compose = ComposeServer()["healthcheck"];
  EXPECT_EQ(Seconds(docker.options["interval"]), ecs["interval"].as<int>());
  EXPECT_EQ(Seconds(docker.options["timeout"]), ecs["timeout"].as<int>());
  EXPECT_EQ(Seconds(docker.options["start-period"]), ecs["startPeriod"].as<int>());
  EXPECT_EQ(std::stoi(docker.options["retries"]), ecs["retries"].as<int>());
  EXPECT_EQ(Seconds(compose["interval"].as<std::string>()), ecs["interval"].as<int>());
  EXPECT_EQ(Seconds(compose["timeout"].as<std::string>()), ecs["timeout"].as<int>());
  EXPECT_EQ(Seconds(compose["start_period"].as<std::string>()), ecs["startPeriod"].as<int>());
  EXPECT_EQ(compose["retries"].as<int>(), ecs["retries"].as<int>());
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

  std::set<int> published;
  for (const YAML::Node& p : ComposeServer()["ports"]) {
    std::vector<std::string> sides = absl::StrSplit(p.as<std::string>(), ':');
    std::vector<std::string> range = absl::StrSplit(sides.back(), '-');
    const int first = std::stoi(range.front());
    const int last = std::stoi(range.back());
    for (int port = first; port <= last; ++port) published.insert(port);
  }
  EXPECT_EQ(published, expected) << "compose ports";
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
  YAML::Node compose = ComposeServer();
  EXPECT_GE(Seconds(compose["stop_grace_period"].as<std::string>()),
            Seconds(compose["environment"]["RTSP_TEST_DRAIN_TIMEOUT"].as<std::string>()) + 5);
  EXPECT_EQ(compose["stop_signal"].as<std::string>(), "SIGTERM");
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
  for (const auto& kv : ComposeServer()["environment"]) {
    vars.push_back({kv.first.as<std::string>(), kv.second.as<std::string>()});
  }
  for (const YAML::Node& e : K8sContainer()["env"]) {
    vars.push_back({e["name"].as<std::string>(), e["value"].as<std::string>()});
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

}  // namespace
}  // namespace rtsptest::testing
