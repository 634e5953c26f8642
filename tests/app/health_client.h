// Clients for the server's gRPC port, as an orchestrator or grpcurl sees it:
// grpc.health.v1 Check and Watch (a Watch stream is read on its own thread
// and every message is timestamped on arrival, so tests can both wait for a
// transition without polling and measure when it happened), plus the server
// reflection calls that grpcurl makes.
#ifndef RTSPTEST_TESTS_APP_HEALTH_CLIENT_H_
#define RTSPTEST_TESTS_APP_HEALTH_CLIENT_H_

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace rtsptest::testing {

using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;
inline constexpr ServingStatus kServing = grpc::health::v1::HealthCheckResponse::SERVING;
inline constexpr ServingStatus kNotServing = grpc::health::v1::HealthCheckResponse::NOT_SERVING;
inline constexpr ServingStatus kServiceUnknown =
    grpc::health::v1::HealthCheckResponse::SERVICE_UNKNOWN;

// "SERVING", "NOT_SERVING", ...: for readable failure messages.
std::string StatusName(ServingStatus status);

// Outcome of one Check: the RPC status code, and the serving status when OK.
struct CheckResult {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  ServingStatus status = grpc::health::v1::HealthCheckResponse::UNKNOWN;
};

// A Health stub on 127.0.0.1:<grpc_port>.
class HealthClient {
 public:
  explicit HealthClient(int grpc_port);

  CheckResult Check(const std::string& service, absl::Duration timeout = absl::Seconds(2));
  // The serving status, or UNKNOWN when the RPC failed.
  ServingStatus CheckStatus(const std::string& service) { return Check(service).status; }

  grpc::health::v1::Health::Stub* stub() { return stub_.get(); }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::health::v1::Health::Stub> stub_;
};

// One Watch stream, read on its own thread until cancelled or ended.
class HealthWatch {
 public:
  struct Update {
    ServingStatus status;
    absl::Time received;  // When the client read it.
  };

  HealthWatch(HealthClient& client, const std::string& service);
  ~HealthWatch();  // Cancels the stream and joins the reader.

  HealthWatch(const HealthWatch&) = delete;
  HealthWatch& operator=(const HealthWatch&) = delete;

  // The next message not yet returned, waiting up to `timeout`; nullopt on
  // timeout or when the stream has ended.
  std::optional<Update> Next(absl::Duration timeout);
  // Skips messages until one with `status`; nullopt if none comes in time.
  std::optional<Update> NextWith(ServingStatus status, absl::Duration timeout);
  // Every message read so far, in order.
  std::vector<ServingStatus> History() const;

 private:
  void Read(std::unique_ptr<grpc::ClientReader<grpc::health::v1::HealthCheckResponse>> reader);

  grpc::ClientContext context_;
  std::thread reader_;
  mutable absl::Mutex mu_;
  std::deque<Update> pending_ ABSL_GUARDED_BY(mu_);
  std::vector<ServingStatus> history_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
};

// grpc.reflection.v1alpha.ServerReflection, spoken with raw bytes: Debian
// ships no C++ reflection client, and linking generated reflection code next
// to libgrpc++_reflection would register its descriptors twice.
//
// ListServices(): the names a `grpcurl list` prints.
absl::StatusOr<std::vector<std::string>> ReflectionListServices(
    const std::shared_ptr<grpc::Channel>& channel);
// FileContainingSymbol(): what `grpcurl describe <symbol>` (and any grpcurl
// call) asks for. Returns the names of the files in the answer; NotFound
// with the server's message when it answers with an error_response.
absl::StatusOr<std::vector<std::string>> ReflectionFileContainingSymbol(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& symbol);

}  // namespace rtsptest::testing

#endif  // RTSPTEST_TESTS_APP_HEALTH_CLIENT_H_
