// WatchHealthReport (see header).
#include "control/services/health_watch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/time/proto_time.h"

namespace rtsptest::control {
namespace {

// How often a quiet watch looks whether its caller has gone.
constexpr absl::Duration kCancelCheck = absl::Milliseconds(250);
constexpr absl::Duration kMinHeartbeat = absl::Milliseconds(100);

}  // namespace

grpc::Status WatchHealthReport(const HealthFeed& feed, const v1::WatchHealthReportRequest& request,
                               grpc::ServerContext* context,
                               grpc::ServerWriter<v1::HealthReport>* writer) {
  absl::Duration heartbeat = absl::InfiniteDuration();
  if (request.has_heartbeat()) {
    heartbeat = common::FromProtoDuration(request.heartbeat());
    if (heartbeat < kMinHeartbeat) {
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("heartbeat ", absl::FormatDuration(heartbeat),
                       " is shorter than the minimum ", absl::FormatDuration(kMinHeartbeat)));
    }
  }
  uint64_t seen = feed.await_change(0, absl::ZeroDuration());
  absl::Time last_write = absl::Now();
  if (!writer->Write(feed.report())) return grpc::Status::OK;
  while (!context->IsCancelled()) {
    const absl::Time due = last_write + heartbeat;
    const uint64_t now_seen = feed.await_change(
        seen, std::min(kCancelCheck, std::max(absl::ZeroDuration(), due - absl::Now())));
    if (now_seen == seen && absl::Now() < due) continue;
    seen = now_seen;
    last_write = absl::Now();
    if (!writer->Write(feed.report())) return grpc::Status::OK;
  }
  return grpc::Status::OK;
}

}  // namespace rtsptest::control
