// TokenAuth implementation (see header).
#include "control/auth/token_auth.h"

#include "absl/strings/strip.h"

namespace rtsptest::control {
namespace {

constexpr absl::string_view kBearer = "Bearer ";

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

grpc::Status TokenAuth::Authorize(const grpc::ServerContext& context) const {
  if (open()) return grpc::Status::OK;
  return Check(context.client_metadata());
}

grpc::Status TokenAuth::Check(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const {
  if (open()) return grpc::Status::OK;
  auto it = metadata.find("authorization");
  absl::string_view value;
  if (it != metadata.end()) value = absl::string_view(it->second.data(), it->second.size());
  if (!absl::ConsumePrefix(&value, kBearer)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing bearer token");
  }
  if (!ConstantTimeEquals(token_, value)) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "wrong token");
  }
  return grpc::Status::OK;
}

}  // namespace rtsptest::control
