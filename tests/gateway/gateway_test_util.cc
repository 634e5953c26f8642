// Gateway test support: curl, health_gateway process, Prometheus parser.
#include "tests/gateway/gateway_test_util.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/json/json.h"
#include "google/protobuf/util/json_util.h"
#include "tests/e2e/server_process.h"

namespace rtsptest::testing {

ProgramResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                         absl::Duration timeout) {
  ProgramResult result;
  int out_fds[2], err_fds[2];
  if (pipe2(out_fds, O_CLOEXEC) != 0 || pipe2(err_fds, O_CLOEXEC) != 0) return result;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fds[1], STDOUT_FILENO);
    dup2(err_fds[1], STDERR_FILENO);
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    std::string name = program;
    argv.push_back(name.data());
    for (std::string& arg : copy) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  close(out_fds[1]);
  close(err_fds[1]);
  absl::Time deadline = absl::Now() + timeout;
  pollfd fds[2] = {{out_fds[0], POLLIN, 0}, {err_fds[0], POLLIN, 0}};
  int open = 2;
  char buffer[65536];
  while (open > 0) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    int ready = poll(fds, 2, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      } else {
        (i == 0 ? result.out : result.err).append(buffer, static_cast<size_t>(n));
      }
    }
  }
  for (pollfd& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  int status = 0;
  if (open > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    result.exit_code = -1;
    return result;
  }
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

HttpReply Curl(const std::string& url, const std::vector<std::string>& extra_args,
               absl::Duration timeout) {
  std::vector<std::string> args = {"-s",
                                   "-S",
                                   "-i",
                                   "--max-time",
                                   absl::StrCat(absl::ToDoubleSeconds(timeout)),
                                   "-w",
                                   "\n%{time_total}"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  args.push_back(url);
  ProgramResult run = RunProgram("/usr/bin/curl", args, timeout + absl::Seconds(2));
  HttpReply reply;
  size_t last = run.out.rfind('\n');
  double seconds = 0;
  if (last != std::string::npos && absl::SimpleAtod(run.out.substr(last + 1), &seconds)) {
    reply.time_total = absl::Seconds(seconds);
    run.out.resize(last);
  }
  size_t end = run.out.find("\r\n\r\n");
  if (run.exit_code != 0 || end == std::string::npos) {
    reply.error = absl::StrCat("curl exit ", run.exit_code, ": ", run.err);
    return reply;
  }
  std::vector<std::string> lines = absl::StrSplit(run.out.substr(0, end), "\r\n");
  std::vector<std::string> status_line = absl::StrSplit(lines[0], ' ');
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &reply.status)) {
    reply.error = absl::StrCat("bad status line: ", lines[0]);
    return reply;
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    reply.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  reply.body = run.out.substr(end + 4);
  return reply;
}

HttpReply WaitForStatus(const std::string& url, int status, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  HttpReply reply;
  do {
    reply = Curl(url);
    if (reply.status == status) return reply;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  return reply;
}

std::string ListenersConfig(const std::vector<int>& ports, const std::string& drain_timeout) {
  std::string yaml = "listeners:\n";
  for (size_t i = 0; i < ports.size(); ++i) {
    absl::StrAppend(&yaml, "  - {name: l", i, ", bind_address: 127.0.0.1, port: ", ports[i], "}\n");
  }
  absl::StrAppend(
      &yaml,
      "streams:\n"
      "  - {path: /cam, plugin: testpattern, description: cheap test camera, parameters: "
      "{codec: h264, width: 160, height: 120, fps: 5, gop: 5}}\n"
      "health: {probe_interval: 200ms, probe_timeout: 300ms}\n"
      "drain_timeout: ",
      drain_timeout, "\n");
  return yaml;
}

std::string JsonStringField(const std::string& body, const std::string& key) {
  absl::StatusOr<common::Json> json = common::ParseJson(body);
  if (!json.ok() || !json->is_object()) return "";
  auto it = json->find(key);
  return it != json->end() && it->is_string() ? it->get<std::string>() : "";
}

absl::StatusOr<google::protobuf::Struct> ParseJsonObject(const std::string& text) {
  google::protobuf::Struct out;
  auto status = google::protobuf::util::JsonStringToMessage(text, &out);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a JSON object (", status.ToString(), "): ", text));
  }
  return out;
}

GatewayProcess::~GatewayProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
  if (reader_.joinable()) reader_.join();
}

absl::Status GatewayProcess::Start(const std::string& grpc_addr,
                                   std::vector<std::string> extra_args) {
  std::string binary = RunfilePath("gateway/health_gateway");
  std::vector<std::string> args = {binary, "--http_port=0", "--bind=127.0.0.1",
                                   absl::StrCat("--grpc_addr=", grpc_addr)};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  pid_ = fork();
  if (pid_ == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  reader_ = std::thread([this, fd = fds[0]] { ReadOutput(fd); });
  absl::MutexLock lock(&mutex_);
  auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) { return http_port_ != 0 || eof_; };
  mutex_.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(10));
  if (http_port_ == 0)
    return absl::UnavailableError(absl::StrCat("gateway did not start:\n", output_));
  return absl::OkStatus();
}

void GatewayProcess::ReadOutput(int fd) {
  char buffer[8192];
  while (true) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    absl::MutexLock lock(&mutex_);
    output_.append(buffer, static_cast<size_t>(n));
    // The port is in the JSON log line {"msg":"http gateway serving",
    // "http_port":N,...}; only complete lines are parsed.
    for (size_t eol; http_port_ == 0 && (eol = output_.find('\n', scanned_)) != std::string::npos;
         scanned_ = eol + 1) {
      absl::StatusOr<common::Json> line =
          common::ParseJson(absl::string_view(output_).substr(scanned_, eol - scanned_));
      if (!line.ok() || !line->is_object() || line->value("msg", "") != "http gateway serving")
        continue;
      http_port_ = line->value("http_port", 0);
    }
  }
  close(fd);
  absl::MutexLock lock(&mutex_);
  eof_ = true;
}

absl::StatusOr<int> GatewayProcess::Stop() {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (reader_.joinable()) reader_.join();
      return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError("gateway did not exit within 5s of SIGTERM");
}

int GatewayProcess::http_port() const {
  absl::MutexLock lock(&mutex_);
  return http_port_;
}

std::string GatewayProcess::url(const std::string& path) const {
  return absl::StrCat("http://127.0.0.1:", http_port(), path);
}

std::string GatewayProcess::output() const {
  absl::MutexLock lock(&mutex_);
  return output_;
}

namespace {

bool IsMetricName(absl::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = absl::ascii_isalpha(c) || c == '_' || c == ':' || (i > 0 && absl::ascii_isdigit(c));
    if (!ok) return false;
  }
  return true;
}

bool IsLabelName(absl::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (!(absl::ascii_isalpha(c) || c == '_' || (i > 0 && absl::ascii_isdigit(c)))) return false;
  }
  return !absl::StartsWith(name, "__");
}

bool ParseValue(absl::string_view text, double* value) {
  if (text == "NaN") {
    *value = std::nan("");
    return true;
  }
  if (text == "+Inf" || text == "Inf") {
    *value = HUGE_VAL;
    return true;
  }
  if (text == "-Inf") {
    *value = -HUGE_VAL;
    return true;
  }
  return absl::SimpleAtod(text, value) && absl::ascii_isdigit(text.back());
}

// The family a sample name belongs to (histogram/summary suffixes).
std::string FamilyOf(const std::string& sample,
                     const std::map<std::string, PrometheusFamily>& families) {
  if (families.count(sample)) return sample;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    if (absl::EndsWith(sample, suffix)) {
      std::string base = sample.substr(0, sample.size() - strlen(suffix));
      auto it = families.find(base);
      if (it != families.end() && (it->second.type == "histogram" || it->second.type == "summary"))
        return base;
    }
  }
  return sample;
}

}  // namespace

absl::StatusOr<std::map<std::string, PrometheusFamily>> ParsePrometheusText(
    const std::string& text) {
  if (text.empty() || text.back() != '\n')
    return absl::InvalidArgumentError("must end with a newline");
  std::map<std::string, PrometheusFamily> families;
  std::set<std::string> finished;  // Families whose samples ended.
  std::set<std::string> seen;      // name{labels} already present.
  std::string current;
  int number = 0;
  auto fail = [&number](absl::string_view line, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("line ", number, ": ", why, ": ", line));
  };
  for (absl::string_view line : absl::StrSplit(text.substr(0, text.size() - 1), '\n')) {
    ++number;
    if (line.empty()) return fail(line, "empty line");
    if (absl::ConsumePrefix(&line, "# ")) {
      std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(' ', 2));
      if (parts.size() < 2 || (parts[0] != "HELP" && parts[0] != "TYPE"))
        continue;  // A plain comment.
      std::string name(parts[1]);
      if (!IsMetricName(name)) return fail(line, "bad metric name");
      PrometheusFamily& family = families[name];
      if (parts[0] == "HELP") {
        if (!family.help.empty()) return fail(line, "second HELP");
        if (parts.size() < 3 || parts[2].empty()) return fail(line, "empty HELP");
        family.help = std::string(parts[2]);
      } else {
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                     "untyped"};
        if (!family.type.empty()) return fail(line, "second TYPE");
        if (!family.samples.empty()) return fail(line, "TYPE after samples");
        if (parts.size() < 3 || !kTypes.count(std::string(parts[2]))) return fail(line, "bad TYPE");
        family.type = std::string(parts[2]);
      }
      continue;
    }
    if (line[0] == '#') return fail(line, "comment without a space");
    PrometheusSample sample;
    size_t name_end = line.find_first_of("{ ");
    if (name_end == absl::string_view::npos) return fail(line, "no value");
    sample.name = std::string(line.substr(0, name_end));
    if (!IsMetricName(sample.name)) return fail(line, "bad metric name");
    absl::string_view rest = line.substr(name_end);
    std::string label_key;
    if (absl::ConsumePrefix(&rest, "{")) {
      while (!absl::ConsumePrefix(&rest, "}")) {
        size_t eq = rest.find("=\"");
        if (eq == absl::string_view::npos) return fail(line, "bad label");
        std::string label(rest.substr(0, eq));
        if (!IsLabelName(label)) return fail(line, "bad label name");
        rest.remove_prefix(eq + 2);
        std::string value;
        bool closed = false;
        while (!rest.empty()) {
          char c = rest[0];
          rest.remove_prefix(1);
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\') {
            if (rest.empty()) return fail(line, "dangling escape");
            char e = rest[0];
            rest.remove_prefix(1);
            if (e == '\\')
              value += '\\';
            else if (e == '"')
              value += '"';
            else if (e == 'n')
              value += '\n';
            else
              return fail(line, "bad escape");
          } else {
            value += c;
          }
        }
        if (!closed) return fail(line, "unterminated label value");
        if (sample.labels.count(label)) return fail(line, "repeated label");
        sample.labels[label] = value;
        absl::StrAppend(&label_key, label, "=", value, ";");
        if (absl::ConsumePrefix(&rest, ",")) continue;
        if (rest.empty() || rest[0] != '}') return fail(line, "expected , or }");
      }
    }
    if (!absl::ConsumePrefix(&rest, " ")) return fail(line, "expected a space before the value");
    std::vector<absl::string_view> fields = absl::StrSplit(rest, ' ');
    if (fields.empty() || fields.size() > 2) return fail(line, "expected value [timestamp]");
    if (!ParseValue(fields[0], &sample.value)) return fail(line, "bad value");
    if (fields.size() == 2) {
      int64_t timestamp;
      if (!absl::SimpleAtoi(fields[1], &timestamp)) return fail(line, "bad timestamp");
    }
    std::string family_name = FamilyOf(sample.name, families);
    auto family = families.find(family_name);
    if (family == families.end() || family->second.type.empty())
      return fail(line, "sample without TYPE");
    if (family_name != current) {
      if (finished.count(family_name)) return fail(line, "family's samples are not contiguous");
      if (!current.empty()) finished.insert(current);
      current = family_name;
    }
    if (!seen.insert(absl::StrCat(sample.name, "{", label_key, "}")).second)
      return fail(line, "duplicate sample");
    family->second.samples.push_back(std::move(sample));
  }
  return families;
}

}  // namespace rtsptest::testing
