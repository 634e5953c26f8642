// ControlServiceImpl: rtsptest.control.v1.ControlService on the gRPC port.
//
// It holds no state of its own: every RPC asks the server through the
// callbacks it was built with, so the same service can be tested against a
// fake report and served by the real App.
#ifndef RTSPTEST_CONTROL_SERVICES_CONTROL_SERVICE_H_
#define RTSPTEST_CONTROL_SERVICES_CONTROL_SERVICE_H_

#include <functional>

#include "rtsptest/control/v1/control.grpc.pb.h"

namespace rtsptest::control {

class ControlServiceImpl final : public v1::ControlService::Service {
 public:
  using ReportFn = std::function<v1::HealthReport()>;
  explicit ControlServiceImpl(ReportFn report) : report_(std::move(report)) {}

  grpc::Status GetHealthReport(grpc::ServerContext* context,
                               const v1::GetHealthReportRequest* request,
                               v1::HealthReport* response) override;

 private:
  const ReportFn report_;
};

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_SERVICES_CONTROL_SERVICE_H_
