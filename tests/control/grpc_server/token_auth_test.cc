// TokenAuth: which methods need the token, the check's answers, and a real
// in-process gRPC server whose mutating method never runs without it.
#include "control/grpc_server/token_auth.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "control/grpc_server/control_plane_server.h"
#include "gtest/gtest.h"
#include "rtsptest/control/v1/control.grpc.pb.h"

namespace rtsptest::control {
namespace {

using Metadata = std::multimap<grpc::string_ref, grpc::string_ref>;

TEST(ConstantTimeEqualsTest, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcabc"));  // b cycled must not match
  EXPECT_FALSE(ConstantTimeEquals("abcabc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", ""));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(TokenAuthTest, ReadOnlyAndOtherServicesAreOpen) {
  EXPECT_FALSE(TokenAuth::IsMutating("/rtsptest.control.v1.ControlService/GetHealthReport"));
  EXPECT_FALSE(TokenAuth::IsMutating("/rtsptest.control.v1.ControlService/ListStreams"));
  EXPECT_FALSE(TokenAuth::IsMutating("/grpc.health.v1.Health/Check"));
  EXPECT_FALSE(
      TokenAuth::IsMutating("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"));
}

TEST(TokenAuthTest, UnlistedControlMethodsAreMutating) {
  EXPECT_TRUE(TokenAuth::IsMutating("/rtsptest.control.v1.ControlService/DeleteStream"));
  EXPECT_TRUE(TokenAuth::IsMutating("/rtsptest.control.v1.ControlService/SomeFutureRpc"));
}

TEST(TokenAuthTest, CheckAnswers) {
  TokenAuth auth("t0ken");
  Metadata none;
  EXPECT_EQ(auth.Check(none).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(auth.Check(none).error_message(), "missing bearer token");
  std::string basic = "Basic dXNlcjpwYXNz", wrong = "Bearer t0ken2", right = "Bearer t0ken";
  std::string key = "authorization";
  EXPECT_EQ(auth.Check(Metadata{{key, basic}}).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(auth.Check(Metadata{{key, wrong}}).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(auth.Check(Metadata{{key, wrong}}).error_message(), "wrong token");
  EXPECT_TRUE(auth.Check(Metadata{{key, right}}).ok());
}

// A ControlService whose DeleteStream counts its calls.
class CountingService final : public v1::ControlService::Service {
 public:
  grpc::Status DeleteStream(grpc::ServerContext*, const v1::DeleteStreamRequest*,
                            v1::DeleteStreamResponse*) override {
    ++deletes;
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no stream");
  }
  grpc::Status GetHealthReport(grpc::ServerContext*, const v1::GetHealthReportRequest*,
                               v1::HealthReport*) override {
    return grpc::Status::OK;
  }
  std::atomic<int> deletes{0};
};

grpc::Status Call(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                  const std::string& bearer) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  if (!bearer.empty()) context.AddMetadata("authorization", "Bearer " + bearer);
  grpc::ByteBuffer request, response;
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  absl::Mutex mu;
  bool done = false;
  grpc::Status result;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status status) {
                   absl::MutexLock lock(&mu);
                   result = status;
                   done = true;
                 });
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(&done));
  return result;
}

TEST(TokenAuthServerTest, MutatingMethodRunsOnlyWithTheToken) {
  CountingService service;
  ControlPlaneSecurity security;
  security.token = "t0ken";
  auto server = ControlPlaneServer::Start("127.0.0.1", 0, {&service}, security);
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                                     grpc::InsecureChannelCredentials());
  const std::string kDelete = "/rtsptest.control.v1.ControlService/DeleteStream";
  EXPECT_EQ(Call(channel, kDelete, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Call(channel, kDelete, "nope").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(service.deletes.load(), 0);
  EXPECT_EQ(Call(channel, kDelete, "t0ken").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(service.deletes.load(), 1);
  EXPECT_TRUE(Call(channel, "/rtsptest.control.v1.ControlService/GetHealthReport", "").ok());
  EXPECT_EQ(Call(channel, "/grpc.health.v1.Health/Check", "").error_code(), grpc::StatusCode::OK);
}

TEST(TokenAuthServerTest, WithoutTokenEverythingIsOpen) {
  CountingService service;
  auto server = ControlPlaneServer::Start("127.0.0.1", 0, {&service});
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                                     grpc::InsecureChannelCredentials());
  EXPECT_EQ(Call(channel, "/rtsptest.control.v1.ControlService/DeleteStream", "").error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(service.deletes.load(), 1);
}

}  // namespace
}  // namespace rtsptest::control
