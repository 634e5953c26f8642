// absl::Status -> grpc::Status (see header).
#include "control/services/status_convert.h"

#include <string>

namespace rtsptest::control {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace rtsptest::control
