// ServerProcess implementation: fork/exec with a pipe on stdout and stderr.
#include "tests/e2e/server_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/json/json.h"

extern char** environ;

namespace rtsptest::testing {
namespace {

// A field of one JSON log line as text: a string's value, any other value
// as JSON ("8554", "true"); "" when the line is not JSON or lacks `key`.
std::string JsonField(absl::string_view line, absl::string_view key) {
  absl::StatusOr<common::Json> json = common::ParseJson(absl::StripAsciiWhitespace(line));
  if (!json.ok() || !json->is_object()) return "";
  auto field = json->find(std::string(key));
  if (field == json->end()) return "";
  return field->is_string() ? field->get<std::string>() : field->dump();
}

// A bind mount ready for a forked child, which may only make system calls.
struct PreparedMount {
  std::string source;
  std::string target;
  // A remount must keep the flags of the mount it binds: in a user
  // namespace (Bazel's sandbox) they are locked and dropping one fails.
  unsigned long remount_flags;
};

PreparedMount PrepareReadOnlyMount(const std::string& source, const std::string& target) {
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
  struct statvfs fs;
  if (statvfs(source.c_str(), &fs) == 0) {
    for (auto [st, ms] : {std::pair{ST_NOSUID, MS_NOSUID},
                          {ST_NODEV, MS_NODEV},
                          {ST_NOEXEC, MS_NOEXEC},
                          {ST_NOATIME, MS_NOATIME},
                          {ST_NODIRATIME, MS_NODIRATIME},
                          {ST_RELATIME, MS_RELATIME}}) {
      if (fs.f_flag & st) flags |= ms;
    }
  }
  return {source, target, flags};
}

void WriteToStderr(const char* text) {
  ssize_t ignored = write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

// In a forked child: a private mount namespace with `mounts` applied.
// Async-signal-safe (system calls only). Returns false after printing why.
bool MountPrivately(const std::vector<PreparedMount>& mounts) {
  if (unshare(CLONE_NEWNS) != 0) {
    WriteToStderr("server_process: unshare(CLONE_NEWNS) failed\n");
    return false;
  }
  // Private first, so that nothing done here propagates to the host.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    WriteToStderr("server_process: making / private failed\n");
    return false;
  }
  for (const PreparedMount& m : mounts) {
    if (mount(m.source.c_str(), m.target.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
        mount(nullptr, m.target.c_str(), nullptr, m.remount_flags, nullptr) != 0) {
      WriteToStderr("server_process: read-only bind mount failed: ");
      WriteToStderr(m.target.c_str());
      WriteToStderr("\n");
      return false;
    }
  }
  return true;
}

}  // namespace

bool IsJsonLogLine(absl::string_view line) {
  absl::StatusOr<common::Json> json = common::ParseJson(line);
  if (!json.ok() || !json->is_object()) return false;
  for (const char* key : {"ts", "level", "msg"}) {
    if (!json->contains(key) || !(*json)[key].is_string()) return false;
  }
  const std::string level = (*json)["level"].get<std::string>();
  return level == "debug" || level == "info" || level == "warning" || level == "error";
}

bool CanMountPrivately() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::vector<PreparedMount> probe = {PrepareReadOnlyMount(tmp ? tmp : "/tmp", tmp ? tmp : "/tmp")};
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDERR_FILENO);
    _exit(MountPrivately(probe) ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string RunfilePath(const std::string& relative) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir ? srcdir : ".", "/rtsp_test_server/", relative);
}

std::string WriteTempFile(const std::string& name, const std::string& content) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(tmp ? tmp : "/tmp", "/", name);
  std::ofstream(path) << content;
  return path;
}

ServerProcess::~ServerProcess() {
  if (IsRunning()) {
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
  if (reader_.joinable()) reader_.join();
  if (error_reader_.joinable()) error_reader_.join();
}

absl::Status ServerProcess::StartWithConfig(const std::string& yaml, std::vector<std::string> args,
                                            absl::Duration timeout) {
  static int counter = 0;
  std::string path =
      WriteTempFile(absl::StrCat("config_", getpid(), "_", ++counter, ".yaml"), yaml);
  args.insert(args.begin(), absl::StrCat("--config=", path));
  return Start(std::move(args), timeout);
}

absl::Status ServerProcess::Start(std::vector<std::string> args, absl::Duration timeout) {
  std::string binary = RunfilePath("app/rtsp_test_server");
  // The gRPC control plane defaults to the fixed port 50051; tests run in
  // parallel, so it gets a kernel-chosen port unless the test picks one.
  auto grpc_port_env = env_.find("RTSP_TEST_GRPC_PORT");
  bool grpc_port_given = grpc_port_env != env_.end() && grpc_port_env->second.has_value();
  for (const std::string& arg : args) grpc_port_given |= absl::StartsWith(arg, "--grpc_port");
  if (!grpc_port_given) args.push_back("--grpc_port=0");
  // Separate pipes for stdout and stderr, so that tests can tell where a
  // message went; output() still interleaves both, line by line.
  int out_fds[2];
  int err_fds[2];
  if (pipe2(out_fds, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (pipe2(err_fds, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  {
    absl::MutexLock lock(&mutex_);
    open_pipes_ = 2;
  }
  // Everything the child needs is built before fork(): a child of a
  // threaded process may only make async-signal-safe calls.
  std::vector<std::string> environment;
  std::set<std::string> replaced;
  // Temporary files (e.g. the server's own font cache) stay in the test's
  // directory unless the test says otherwise.
  if (const char* test_tmpdir = std::getenv("TEST_TMPDIR");
      test_tmpdir != nullptr && env_.count("TMPDIR") == 0) {
    environment.push_back(absl::StrCat("TMPDIR=", test_tmpdir));
    replaced.insert("TMPDIR");
  }
  for (const auto& [name, value] : env_) {
    replaced.insert(name);
    if (value.has_value()) environment.push_back(absl::StrCat(name, "=", *value));
  }
  for (char** entry = environ; *entry != nullptr; ++entry) {
    absl::string_view text(*entry);
    if (replaced.count(std::string(text.substr(0, text.find('=')))) == 0)
      environment.emplace_back(text);
  }
  std::vector<char*> envp;
  for (std::string& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  argv.push_back(binary.data());
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<PreparedMount> mounts;
  for (const Mount& m : read_only_mounts_)
    mounts.push_back(PrepareReadOnlyMount(m.source, m.target));
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out_fds[1], STDOUT_FILENO);
    dup2(err_fds[1], STDERR_FILENO);
    if (!mounts.empty() && !MountPrivately(mounts)) _exit(127);
    execve(binary.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(out_fds[1]);
  close(err_fds[1]);
  reader_ = std::thread([this, fd = out_fds[0]] { ReadOutput(fd, false); });
  error_reader_ = std::thread([this, fd = err_fds[0]] { ReadOutput(fd, true); });
  absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mutex_);
  auto started = [this]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) {
    return absl::StrContains(output_, "\"msg\":\"server started\"") ||
           absl::StrContains(output_, "<eof>");
  };
  mutex_.AwaitWithDeadline(absl::Condition(&started), deadline);
  if (absl::StrContains(output_, "\"msg\":\"server started\"")) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("server did not start; output:\n", output_));
}

void ServerProcess::ReadOutput(int fd, bool is_stderr) {
  char buffer[8192];
  std::string pending;
  while (true) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    pending.append(buffer, static_cast<size_t>(n));
    size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, newline + 1);
      pending.erase(0, newline + 1);
      absl::MutexLock lock(&mutex_);
      if (absl::StrContains(line, "\"msg\":\"listener serving\"")) {
        int port = 0;
        if (absl::SimpleAtoi(JsonField(line, "port"), &port))
          ports_[JsonField(line, "listener")] = port;
      }
      if (absl::StrContains(line, "\"msg\":\"control plane serving\"")) {
        if (!absl::SimpleAtoi(JsonField(line, "grpc_port"), &grpc_port_)) grpc_port_ = 0;
      }
      if (absl::StrContains(line, "\"msg\":\"http gateway serving\"")) {
        if (!absl::SimpleAtoi(JsonField(line, "http_port"), &http_port_)) http_port_ = 0;
      }
      output_ += line;
      if (is_stderr) error_output_ += line;
    }
  }
  close(fd);
  absl::MutexLock lock(&mutex_);
  output_ += pending;
  if (is_stderr) error_output_ += pending;
  if (--open_pipes_ == 0) output_ += "<eof>";
}

bool ServerProcess::IsRunning() {
  if (pid_ <= 0 || exit_code_.has_value()) return false;
  int status;
  pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    return false;
  }
  return true;
}

absl::StatusOr<int> ServerProcess::WaitForExit(absl::Duration timeout) {
  if (exit_code_.has_value()) return *exit_code_;
  if (pid_ <= 0) return absl::FailedPreconditionError("server was never started");
  // The output pipe reaches EOF when the process exits (it starts no
  // children), so await that instead of polling waitpid.
  {
    absl::MutexLock lock(&mutex_);
    auto eof = [this]()
                   ABSL_SHARED_LOCKS_REQUIRED(mutex_) { return absl::EndsWith(output_, "<eof>"); };
    if (!mutex_.AwaitWithTimeout(absl::Condition(&eof), timeout)) {
      return absl::DeadlineExceededError("server did not exit");
    }
  }
  int status;
  waitpid(pid_, &status, 0);
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  if (reader_.joinable()) reader_.join();
  if (error_reader_.joinable()) error_reader_.join();
  return *exit_code_;
}

absl::StatusOr<int> ServerProcess::Stop(int signal, absl::Duration timeout) {
  if (IsRunning()) kill(pid_, signal);
  return WaitForExit(timeout);
}

int ServerProcess::port(const std::string& listener) const {
  absl::MutexLock lock(&mutex_);
  auto it = ports_.find(listener);
  return it == ports_.end() ? 0 : it->second;
}

std::string ServerProcess::url(const std::string& listener, const std::string& path) const {
  return absl::StrCat("rtsp://127.0.0.1:", port(listener), path);
}

std::string ServerProcess::output() const {
  absl::MutexLock lock(&mutex_);
  return output_;
}

std::string ServerProcess::error_output() const {
  absl::MutexLock lock(&mutex_);
  return error_output_;
}

bool ServerProcess::WaitForOutput(const std::string& text, absl::Duration timeout) {
  absl::MutexLock lock(&mutex_);
  auto found = [this, &text]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) {
    return absl::StrContains(output_, text) || absl::StrContains(output_, "<eof>");
  };
  mutex_.AwaitWithTimeout(absl::Condition(&found), timeout);
  return absl::StrContains(output_, text);
}

}  // namespace rtsptest::testing
