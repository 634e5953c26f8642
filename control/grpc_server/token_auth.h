// TokenAuth: the bearer token of the control API.
//
// With a token set, every mutating rtsptest.control.v1.ControlService RPC
// must carry "authorization: Bearer <token>"; the read-only ones (one list,
// kReadOnlyMethods in token_auth.cc), grpc.health.v1 and reflection stay
// open. A ControlService method missing from the list is mutating, so that a
// new RPC is protected until someone decides otherwise.
//
// gRPC C++ server interceptors cannot fail a call before its handler runs,
// and AuthMetadataProcessor needs TLS; so Protect() wraps a service's method
// handlers instead: a denied call reaches the generated handler with an error
// status, which then answers it without running the method.
#ifndef RTSPTEST_CONTROL_GRPC_SERVER_TOKEN_AUTH_H_
#define RTSPTEST_CONTROL_GRPC_SERVER_TOKEN_AUTH_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/service_type.h>

#include <map>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace rtsptest::control {

class TokenAuth {
 public:
  // `token` must not be empty (no token: do not use a TokenAuth).
  explicit TokenAuth(std::string token);

  // Whether `full_method` ("/pkg.Service/Method") needs the token.
  static bool IsMutating(absl::string_view full_method);

  // OK when `metadata` carries the token; UNAUTHENTICATED "missing bearer
  // token" when it carries none, PERMISSION_DENIED "wrong token" otherwise.
  // The comparison takes the same time wherever the first difference is.
  grpc::Status Check(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const;

  // A service to register instead of `service` (which must be synchronous
  // or callback-based and outlive the result): the same methods, the
  // mutating ones checking the token before they run. Borrows this.
  std::unique_ptr<grpc::Service> Protect(grpc::Service* service) const;

 private:
  std::string token_;
};

// Equality of `a` and `b` in time that depends on `a`'s length only.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_GRPC_SERVER_TOKEN_AUTH_H_
