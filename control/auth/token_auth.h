// TokenAuth: the bearer token of the control API.
//
// With a token set, every mutating rtsptest.control.v1.ControlService RPC
// must carry "authorization: Bearer <token>"; ControlServiceImpl asks
// Authorize() first thing in each of them. The read-only RPCs (Get*, List*,
// Watch*), grpc.health.v1 and reflection stay open. That every other
// ControlService method is guarded, including RPCs added later, is checked
// over the service's descriptor by tests/control/security.
#ifndef RTSPTEST_CONTROL_AUTH_TOKEN_AUTH_H_
#define RTSPTEST_CONTROL_AUTH_TOKEN_AUTH_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <string>

#include "absl/strings/string_view.h"

namespace rtsptest::control {

class TokenAuth {
 public:
  // An empty `token` leaves the API open: Authorize() always answers OK.
  explicit TokenAuth(std::string token) : token_(std::move(token)) {}

  bool open() const { return token_.empty(); }

  // OK when the call may go on; UNAUTHENTICATED "missing bearer token" when
  // it carries no bearer token, PERMISSION_DENIED "wrong token" otherwise.
  grpc::Status Authorize(const grpc::ServerContext& context) const;
  // The same answer for a call's metadata.
  grpc::Status Check(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const;

 private:
  std::string token_;
};

// Equality of `a` and `b` in time that depends on `a`'s length only.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_AUTH_TOKEN_AUTH_H_
