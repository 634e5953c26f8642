// The one conversion of absl::Status into grpc::Status at the control API's
// edge. Both use the google.rpc.Code numbering, so codes map one to one.
#ifndef RTSPTEST_CONTROL_SERVICES_STATUS_CONVERT_H_
#define RTSPTEST_CONTROL_SERVICES_STATUS_CONVERT_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace rtsptest::control {

// The same code and message; OK for OK.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_SERVICES_STATUS_CONVERT_H_
