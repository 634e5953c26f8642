// TokenAuth implementation (see header).
#include "control/grpc_server/token_auth.h"

#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/method_handler.h>

#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"

namespace rtsptest::control {
namespace {

constexpr absl::string_view kControlServicePrefix = "/rtsptest.control.v1.ControlService/";

// The ControlService methods anyone may call: they only read.
const absl::flat_hash_set<absl::string_view>& ReadOnlyMethods() {
  static const auto* methods = new absl::flat_hash_set<absl::string_view>{
      "/rtsptest.control.v1.ControlService/GetHealthReport",
      "/rtsptest.control.v1.ControlService/GetServerInfo",
      "/rtsptest.control.v1.ControlService/ListPlugins",
      "/rtsptest.control.v1.ControlService/ListStreams",
      "/rtsptest.control.v1.ControlService/GetStream",
  };
  return *methods;
}

constexpr absl::string_view kBearer = "Bearer ";

using grpc::internal::MethodHandler;
using grpc::internal::RpcServiceMethod;

// Runs a handler another RpcServiceMethod owns; with `auth`, only after the
// token is checked.
class BorrowedHandler : public MethodHandler {
 public:
  BorrowedHandler(MethodHandler* inner, const TokenAuth* auth, RpcServiceMethod::RpcType type,
                  RpcServiceMethod::ApiType api)
      : inner_(inner), auth_(auth), type_(type), api_(api) {}

  void RunHandler(const HandlerParameter& param) override {
    if (auth_ == nullptr || !param.status.ok()) return inner_->RunHandler(param);
    grpc::Status status = auth_->Check(param.server_context->client_metadata());
    if (status.ok()) return inner_->RunHandler(param);
    if (api_ == RpcServiceMethod::ApiType::SYNC && (type_ == RpcServiceMethod::CLIENT_STREAMING ||
                                                    type_ == RpcServiceMethod::BIDI_STREAMING)) {
      // These sync handlers ignore param.status and have no request to free:
      // answer the call here, without them.
      if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
        grpc::internal::ErrorMethodHandler<grpc::StatusCode::UNAUTHENTICATED>(
            status.error_message())
            .RunHandler(param);
      } else {
        grpc::internal::ErrorMethodHandler<grpc::StatusCode::PERMISSION_DENIED>(
            status.error_message())
            .RunHandler(param);
      }
      return;
    }
    // The generated unary and server-streaming handlers answer a call whose
    // request "failed to deserialize" with that status, without calling the
    // method (and free the request). Callback-API handlers do not run the
    // method either, but answer UNIMPLEMENTED.
    inner_->RunHandler(HandlerParameter(param.call, param.server_context, param.request, status,
                                        param.internal_data, param.call_requester));
  }

  void* Deserialize(grpc_call* call, grpc_byte_buffer* req, grpc::Status* status,
                    void** handler_data) override {
    return inner_->Deserialize(call, req, status, handler_data);
  }

 private:
  MethodHandler* inner_;
  const TokenAuth* auth_;
  RpcServiceMethod::RpcType type_;
  RpcServiceMethod::ApiType api_;
};

// grpc::Service keeps its methods private and offers no way to wrap their
// handlers. An explicit instantiation may name a private member (access is
// not checked there, [temp.spec]), which hands us the member pointer.
using MethodsMember = std::vector<std::unique_ptr<RpcServiceMethod>> grpc::Service::*;
MethodsMember ServiceMethodsMember();
template <MethodsMember kMember>
struct ServiceMethodsAccess {
  friend MethodsMember ServiceMethodsMember() { return kMember; }
};
template struct ServiceMethodsAccess<&grpc::Service::methods_>;

struct ServiceMethods {
  static std::vector<std::unique_ptr<RpcServiceMethod>>& Of(grpc::Service* service) {
    return service->*ServiceMethodsMember();
  }
};

class ProtectedService : public grpc::Service {
 public:
  ProtectedService(grpc::Service* inner, const TokenAuth* auth) {
    for (const std::unique_ptr<RpcServiceMethod>& method : ServiceMethods::Of(inner)) {
      // Async methods have no handler; none is registered here.
      MethodHandler* handler = method->handler();
      const TokenAuth* check = TokenAuth::IsMutating(method->name()) ? auth : nullptr;
      auto copy = new RpcServiceMethod(
          method->name(), method->method_type(),
          handler ? new BorrowedHandler(handler, check, method->method_type(), method->api_type())
                  : nullptr);
      if (method->api_type() != RpcServiceMethod::ApiType::SYNC) {
        copy->SetServerApiType(method->api_type());
      }
      AddMethod(copy);
    }
  }
};

}  // namespace

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  // Every byte of `a` is compared, against `b` cycled, so that neither the
  // position of the first difference nor b's length changes the time.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  if (b.empty()) return a.empty();
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i % b.size()]);
  }
  return diff == 0;
}

TokenAuth::TokenAuth(std::string token) : token_(std::move(token)) {}

bool TokenAuth::IsMutating(absl::string_view full_method) {
  return absl::StartsWith(full_method, kControlServicePrefix) &&
         !ReadOnlyMethods().contains(full_method);
}

grpc::Status TokenAuth::Check(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const {
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing bearer token");
  }
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::StartsWith(value, kBearer)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing bearer token");
  }
  value.remove_prefix(kBearer.size());
  if (!ConstantTimeEquals(token_, value)) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "wrong token");
  }
  return grpc::Status::OK;
}

std::unique_ptr<grpc::Service> TokenAuth::Protect(grpc::Service* service) const {
  return std::make_unique<ProtectedService>(service, this);
}

}  // namespace rtsptest::control
