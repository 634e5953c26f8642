// StatusFollower: the Watch and refresh loops.
#include "gateway/status_follower.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/time/proto_time.h"

namespace rtsptest::gateway {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// What a health report may weigh: the config's bounds (1,000 streams of at
// most a few KiB each) keep it far below.
constexpr int kMaxReportBytes = 64 << 20;

std::string Describe(const grpc::Status& status) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  int code = static_cast<int>(status.error_code());
  std::string name = code >= 0 && code <= 16 ? kNames[code] : absl::StrCat("code ", code);
  return status.error_message().empty() ? name : absl::StrCat(name, ": ", status.error_message());
}

WatchedStatus FromProto(HealthCheckResponse::ServingStatus status) {
  switch (status) {
    case HealthCheckResponse::SERVING:
      return WatchedStatus::kServing;
    case HealthCheckResponse::NOT_SERVING:
      return WatchedStatus::kNotServing;
    case HealthCheckResponse::SERVICE_UNKNOWN:
      return WatchedStatus::kServiceUnknown;
    default:
      return WatchedStatus::kUnknown;
  }
}

const char* Name(WatchedStatus status) {
  switch (status) {
    case WatchedStatus::kServing:
      return "SERVING";
    case WatchedStatus::kNotServing:
      return "NOT_SERVING";
    case WatchedStatus::kServiceUnknown:
      return "SERVICE_UNKNOWN";
    default:
      return "UNKNOWN";
  }
}

}  // namespace

StatusFollower::StatusFollower(StatusFollowerOptions options) : options_(std::move(options)) {
  absl::MutexLock lock(&mu_);
  connection_ = Connect();
  PublishLocked();
}

std::shared_ptr<StatusFollower::Connection> StatusFollower::Connect() const {
  grpc::ChannelArguments args;
  // A private subchannel pool: otherwise channels to the same target share
  // one subchannel, and with it the backoff state of the last failure.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Health reports of many streams may pass gRPC's default 4 MiB.
  args.SetMaxReceiveMessageSize(kMaxReportBytes);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options_.min_backoff)));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options_.min_backoff)));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options_.max_backoff)));
  if (!options_.tls_server_name.empty()) args.SetSslTargetNameOverride(options_.tls_server_name);
  auto connection = std::make_shared<Connection>();
  connection->channel = grpc::CreateCustomChannel(
      options_.grpc_addr,
      options_.credentials ? options_.credentials : grpc::InsecureChannelCredentials(), args);
  connection->health = grpc::health::v1::Health::NewStub(connection->channel);
  connection->control = control::v1::ControlService::NewStub(connection->channel);
  return connection;
}

std::shared_ptr<StatusFollower::Connection> StatusFollower::connection() const {
  absl::MutexLock lock(&mu_);
  return connection_;
}

StatusFollower::~StatusFollower() { Stop(); }

void StatusFollower::Start() {
  watcher_ = std::thread([this] { WatchLoop(); });
  reporter_ = std::thread([this] { ReportLoop(); });
}

void StatusFollower::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (watch_context_ != nullptr) watch_context_->TryCancel();
    if (report_context_ != nullptr) report_context_->TryCancel();
  }
  if (watcher_.joinable()) watcher_.join();
  if (reporter_.joinable()) reporter_.join();
}

std::shared_ptr<const ControlPlaneView> StatusFollower::view() const {
  absl::MutexLock lock(&mu_);
  const absl::Duration age = absl::Now() - view_->report_time;
  if (!view_->reachable || age <= options_.report_interval + options_.rpc_timeout) return view_;
  auto overdue = std::make_shared<ControlPlaneView>(*view_);
  overdue->reachable = false;
  overdue->unreachable_error =
      absl::StrCat("WatchHealthReport: no report for ",
                   absl::FormatDuration(absl::Trunc(age, absl::Milliseconds(1))), " (heartbeat ",
                   absl::FormatDuration(options_.report_interval), ")");
  return overdue;
}

bool StatusFollower::SleepUnlessStopping(absl::Duration duration) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), duration);
  return !stopping_;
}

void StatusFollower::WatchLoop() {
  absl::Duration backoff = options_.min_backoff;
  while (true) {
    grpc::ClientContext context;
    // Fail fast while the server is down instead of queueing: the loop owns
    // the retry schedule, and the view must say "unreachable" meanwhile.
    context.set_wait_for_ready(false);
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      watch_context_ = &context;
    }
    HealthCheckRequest request;
    request.set_service("");
    std::shared_ptr<Connection> connection = this->connection();
    std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> reader =
        connection->health->Watch(&context, request);
    HealthCheckResponse response;
    bool got_any = false;
    while (reader->Read(&response)) {
      got_any = true;
      WatchedStatus status = FromProto(response.status());
      absl::MutexLock lock(&mu_);
      bool was_up = watch_up_;
      if (!was_up || overall_ != status) {
        common::Log(
            common::LogLevel::kInfo,
            was_up ? "gateway: health status changed" : "gateway: watching the control plane",
            {{"grpc_addr", options_.grpc_addr}, {"status", Name(status)}});
      }
      watch_up_ = true;
      overall_ = status;
      PublishLocked();
    }
    grpc::Status status = reader->Finish();
    {
      absl::MutexLock lock(&mu_);
      watch_context_ = nullptr;
      if (stopping_) return;
      if (watch_up_ || got_any) {
        common::Log(common::LogLevel::kWarning, "gateway: lost the control plane",
                    {{"grpc_addr", options_.grpc_addr}, {"error", Describe(status)}});
      }
      watch_up_ = false;
      overall_ = WatchedStatus::kUnknown;
      watch_error_ = absl::StrCat("Watch: ", Describe(status));
      PublishLocked();
    }
    backoff = got_any ? options_.min_backoff : std::min(backoff * 2, options_.max_backoff);
    if (!SleepUnlessStopping(got_any ? options_.min_backoff : backoff)) return;
    std::shared_ptr<Connection> fresh = Connect();
    absl::MutexLock lock(&mu_);
    connection_ = std::move(fresh);
  }
}

void StatusFollower::ReportLoop() {
  absl::Duration backoff = options_.min_backoff;
  while (true) {
    grpc::ClientContext context;
    context.set_wait_for_ready(false);
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      report_context_ = &context;
    }
    control::v1::WatchHealthReportRequest request;
    *request.mutable_heartbeat() = common::ToProtoDuration(options_.report_interval);
    std::unique_ptr<grpc::ClientReader<control::v1::HealthReport>> reader =
        connection()->control->WatchHealthReport(&context, request);
    control::v1::HealthReport report;
    bool got_any = false;
    while (reader->Read(&report)) {
      got_any = true;
      absl::MutexLock lock(&mu_);
      report_ok_ = true;
      report_ = std::move(report);
      report_time_ = absl::Now();
      PublishLocked();
    }
    grpc::Status status = reader->Finish();
    {
      absl::MutexLock lock(&mu_);
      report_context_ = nullptr;
      if (stopping_) return;
      report_ok_ = false;
      report_error_ = absl::StrCat("WatchHealthReport: ", Describe(status));
      PublishLocked();
    }
    backoff = got_any ? options_.min_backoff : std::min(backoff * 2, options_.max_backoff);
    if (!SleepUnlessStopping(backoff)) return;
  }
}

void StatusFollower::PublishLocked() {
  auto view = std::make_shared<ControlPlaneView>();
  view->grpc_addr = options_.grpc_addr;
  view->reachable = watch_up_ && report_ok_;
  if (!watch_up_) {
    view->unreachable_error = watch_error_;
  } else if (!report_ok_) {
    view->unreachable_error = report_error_;
  }
  view->overall = overall_;
  view->report = report_;
  view->report_time = report_time_;
  view_ = std::move(view);
}

}  // namespace rtsptest::gateway
