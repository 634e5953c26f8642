// ControlServiceImpl implementation.
#include "control/services/control_service.h"

namespace rtsptest::control {

grpc::Status ControlServiceImpl::GetHealthReport(grpc::ServerContext*,
                                                 const v1::GetHealthReportRequest*,
                                                 v1::HealthReport* response) {
  *response = report_();
  return grpc::Status::OK;
}

}  // namespace rtsptest::control
