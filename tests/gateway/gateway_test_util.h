// Test support for the HTTP gateway: a real HTTP client (the curl binary),
// the health_gateway binary as a child process, a strict Prometheus text
// parser, and JSON parsing through protobuf's Struct.
#ifndef RTSPTEST_TESTS_GATEWAY_GATEWAY_TEST_UTIL_H_
#define RTSPTEST_TESTS_GATEWAY_GATEWAY_TEST_UTIL_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "tests/util/loopback.h"

namespace rtsptest::testing {

struct HttpReply {
  int status = 0;                              // 0 when curl got no reply (see error).
  std::map<std::string, std::string> headers;  // Names lower-cased.
  std::string body;
  // curl's own measure of the exchange (connect to last byte).
  absl::Duration time_total;
  std::string error;  // curl's stderr and exit code when status == 0.
};

// Runs `curl -s -i URL` (plus `extra_args`, e.g. {"-I"} or {"-X", "POST"}),
// bounded by `timeout`.
HttpReply Curl(const std::string& url, const std::vector<std::string>& extra_args = {},
               absl::Duration timeout = absl::Seconds(5));

// Polls `url` every 50 ms until it answers `status` or `timeout` passes;
// returns the last reply.
HttpReply WaitForStatus(const std::string& url, int status, absl::Duration timeout);

// A config with one 127.0.0.1 listener per entry of `ports` (named l0, l1,
// ...; 0 = a free port), one cheap stream /cam on all of them, and the
// given drain timeout.
std::string ListenersConfig(const std::vector<int>& ports, const std::string& drain_timeout = "0s");

// Runs a program with `args`, waits up to `timeout`, returns its stdout and
// exit code (-1 on timeout: the child is killed).
struct ProgramResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
ProgramResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                         absl::Duration timeout);

// Parses a JSON object; fails the caller's expectations with the text when
// it is not one.
absl::StatusOr<google::protobuf::Struct> ParseJsonObject(const std::string& text);

// The string field `key` of a JSON object body; "" when the body is not
// JSON or has no such string field.
std::string JsonStringField(const std::string& body, const std::string& key);

// health_gateway as a child process on an ephemeral HTTP port (learned from
// its "http gateway serving" log line).
class GatewayProcess {
 public:
  GatewayProcess() = default;
  ~GatewayProcess();  // SIGKILLs it if still running.

  absl::Status Start(const std::string& grpc_addr, std::vector<std::string> extra_args = {});
  // SIGTERM, then waits; returns the exit code.
  absl::StatusOr<int> Stop();
  int http_port() const;
  std::string url(const std::string& path) const;
  std::string output() const;

 private:
  void ReadOutput(int fd);

  pid_t pid_ = -1;
  std::thread reader_;
  mutable absl::Mutex mutex_;
  std::string output_ ABSL_GUARDED_BY(mutex_);
  bool eof_ ABSL_GUARDED_BY(mutex_) = false;
  int http_port_ ABSL_GUARDED_BY(mutex_) = 0;
  size_t scanned_ ABSL_GUARDED_BY(mutex_) = 0;  // output_ before this offset is parsed.
};

// One sample of Prometheus text exposition format.
struct PrometheusSample {
  std::string name;
  std::map<std::string, std::string> labels;  // Values unescaped.
  double value = 0;
};
struct PrometheusFamily {
  std::string type;  // counter | gauge | histogram | summary | untyped
  std::string help;
  std::vector<PrometheusSample> samples;
};

// A strict parser of text format 0.0.4: every line must be HELP, TYPE or a
// sample; names and label names must be valid; label values may only use
// the \\ \" \n escapes; TYPE comes before its samples and at most once; a
// family's samples are contiguous; no sample repeats; the text ends with a
// newline. InvalidArgument names the line that fails.
absl::StatusOr<std::map<std::string, PrometheusFamily>> ParsePrometheusText(
    const std::string& text);

}  // namespace rtsptest::testing

#endif  // RTSPTEST_TESTS_GATEWAY_GATEWAY_TEST_UTIL_H_
