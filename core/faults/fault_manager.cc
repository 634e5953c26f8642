// FaultManager: ids, durations, one fault per kind and target, events.
#include "core/faults/fault_manager.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log/log.h"
#include "common/time/proto_time.h"

namespace rtsptest::core {
namespace {

bool Matches(const control::v1::Fault& fault, const control::v1::ClearFaultsRequest& request) {
  if (!request.stream().empty() && fault.spec().stream() != request.stream()) return false;
  if (!request.listener().empty() && fault.spec().listener() != request.listener()) return false;
  if (request.ids().empty()) return true;
  for (const std::string& id : request.ids()) {
    if (id == fault.id()) return true;
  }
  return false;
}

}  // namespace

std::string FaultTargetName(const FaultSpec& spec) {
  return spec.listener().empty() ? absl::StrCat("stream ", spec.stream())
                                 : absl::StrCat("listener ", spec.listener());
}

FaultManager::FaultManager(EventLog* events) : events_(events) {
  expiry_thread_ = std::thread([this] { ExpiryLoop(); });
}

FaultManager::~FaultManager() { Shutdown(); }

void FaultManager::Shutdown() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (expiry_thread_.joinable()) expiry_thread_.join();
}

void FaultManager::Register(FaultTarget target, const std::string& kind, FaultHandler* handler,
                            bool one_shot) {
  handlers_[{target, kind}] = {handler, one_shot};
}

absl::StatusOr<control::v1::Fault> FaultManager::Inject(const FaultSpec& spec) {
  const bool on_stream = !spec.stream().empty();
  if (on_stream == !spec.listener().empty()) {
    return absl::InvalidArgumentError(
        on_stream ? "fault: set fault.stream or fault.listener, not both"
                  : "fault: set fault.stream (a stream's path) or fault.listener (a listener's "
                    "name)");
  }
  const FaultTarget target = on_stream ? FaultTarget::kStream : FaultTarget::kListener;
  auto handler = handlers_.find({target, spec.kind()});
  if (handler == handlers_.end()) {
    std::vector<std::string> kinds;
    for (const auto& [key, unused] : handlers_) {
      if (key.first == target) kinds.push_back(key.second);
    }
    return absl::InvalidArgumentError(absl::StrCat("fault.kind \"", spec.kind(), "\" is not a ",
                                                   on_stream ? "stream" : "listener",
                                                   " fault; one of: ", absl::StrJoin(kinds, ", ")));
  }
  absl::Duration duration = absl::ZeroDuration();
  if (spec.has_duration()) {
    const google::protobuf::Duration& proto = spec.duration();
    if (proto.seconds() < 0 || proto.nanos() < 0 || proto.nanos() >= 1000000000 ||
        (proto.seconds() == 0 && proto.nanos() == 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "fault.duration (seconds=", proto.seconds(), ", nanos=", proto.nanos(),
          ") is not a positive duration; leave it unset for a fault that lasts until cleared"));
    }
    duration = common::FromProtoDuration(proto);
  }
  const bool one_shot = handler->second.one_shot;
  if (one_shot && spec.has_duration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("fault.duration: ", spec.kind(), " acts once; it takes no duration"));
  }

  const std::string key = absl::StrCat(spec.kind(), "@", FaultTargetName(spec));
  control::v1::Fault fault;
  *fault.mutable_spec() = spec;
  uint64_t number = 0;
  {
    absl::MutexLock lock(&mutex_);
    if (!one_shot && !taken_.insert(key).second) {
      for (const auto& [number, active] : active_) {
        if (active.key == key) {
          return absl::FailedPreconditionError(
              absl::StrCat(FaultTargetName(spec), " already has a ", spec.kind(), " fault (",
                           active.fault.id(), "); clear it first"));
        }
      }
      return absl::FailedPreconditionError(absl::StrCat(FaultTargetName(spec), " already has a ",
                                                        spec.kind(), " fault being started"));
    }
    number = next_id_++;
    fault.set_id(absl::StrCat("f-", number));
  }
  const absl::Time started = absl::Now();
  *fault.mutable_started_at() = common::ToProtoTimestamp(started);
  if (spec.has_duration())
    *fault.mutable_expires_at() = common::ToProtoTimestamp(started + duration);

  absl::Status status = handler->second.handler->Start(fault.id(), spec);
  if (!status.ok()) {
    absl::MutexLock lock(&mutex_);
    if (!one_shot) taken_.erase(key);
    return status;
  }
  common::Log(
      common::LogLevel::kInfo, one_shot ? "fault fired" : "fault started",
      {{"id", fault.id()},
       {"fault", spec.kind()},
       {"target", FaultTargetName(spec)},
       {"duration", spec.has_duration() ? absl::FormatDuration(duration) : "until cleared"}});
  Publish(fault, one_shot ? "fired" : "started", "");
  if (!one_shot) {
    Active active;
    active.fault = fault;
    active.handler = handler->second.handler;
    active.expires = spec.has_duration() ? started + duration : absl::InfiniteFuture();
    active.key = key;
    absl::MutexLock lock(&mutex_);
    active_.emplace(number, std::move(active));
    ++generation_;
  }
  return fault;
}

absl::StatusOr<std::vector<control::v1::Fault>> FaultManager::Clear(
    const control::v1::ClearFaultsRequest& request) {
  std::vector<Active> ended;
  {
    absl::MutexLock lock(&mutex_);
    for (const std::string& id : request.ids()) {
      bool found = false;
      for (const auto& [number, active] : active_) found = found || active.fault.id() == id;
      if (!found) {
        return absl::NotFoundError(absl::StrCat("fault ", id, " is not active"));
      }
    }
    for (auto it = active_.begin(); it != active_.end();) {
      if (Matches(it->second.fault, request)) {
        ended.push_back(std::move(it->second));
        it = active_.erase(it);
      } else {
        ++it;
      }
    }
  }
  std::vector<control::v1::Fault> cleared;
  for (const Active& active : ended) cleared.push_back(active.fault);
  End(std::move(ended), "cleared");
  return cleared;
}

std::vector<control::v1::Fault> FaultManager::List(absl::string_view stream) const {
  absl::MutexLock lock(&mutex_);
  std::vector<control::v1::Fault> faults;
  for (const auto& [number, active] : active_) {
    if (stream.empty() || active.fault.spec().stream() == stream) faults.push_back(active.fault);
  }
  return faults;
}

void FaultManager::OnStreamGone(absl::string_view path, absl::string_view reason) {
  std::vector<Active> ended;
  {
    absl::MutexLock lock(&mutex_);
    for (auto it = active_.begin(); it != active_.end();) {
      if (it->second.fault.spec().stream() == path) {
        ended.push_back(std::move(it->second));
        it = active_.erase(it);
      } else {
        ++it;
      }
    }
  }
  End(std::move(ended), reason);
}

void FaultManager::End(std::vector<Active> ended, absl::string_view reason) {
  for (const Active& active : ended) {
    active.handler->Stop(active.fault.id(), active.fault.spec());
    {
      absl::MutexLock lock(&mutex_);
      taken_.erase(active.key);
    }
    common::Log(common::LogLevel::kInfo, "fault cleared",
                {{"id", active.fault.id()},
                 {"fault", active.fault.spec().kind()},
                 {"target", FaultTargetName(active.fault.spec())},
                 {"reason", std::string(reason)}});
    Publish(active.fault, "cleared", reason);
  }
}

void FaultManager::Publish(const control::v1::Fault& fault, const std::string& type,
                           absl::string_view reason) const {
  Event event;
  event.kind = "fault";
  event.type = type;
  event.stream = fault.spec().stream();
  event.fields["id"] = fault.id();
  event.fields["fault"] = fault.spec().kind();
  if (!fault.spec().listener().empty()) event.fields["listener"] = fault.spec().listener();
  if (!reason.empty()) event.fields["reason"] = std::string(reason);
  events_->Publish(std::move(event));
}

void FaultManager::ExpiryLoop() {
  absl::MutexLock lock(&mutex_);
  while (!stopping_) {
    absl::Time next = absl::InfiniteFuture();
    for (const auto& [number, active] : active_) next = std::min(next, active.expires);
    const absl::Time now = absl::Now();
    if (next > now) {
      // Wakes early for a new fault (it may expire sooner) or for Stop.
      const uint64_t seen = generation_;
      auto woken = [this, seen]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) {
        return stopping_ || generation_ != seen;
      };
      mutex_.AwaitWithDeadline(absl::Condition(&woken), next);
      continue;
    }
    std::vector<Active> ended;
    for (auto it = active_.begin(); it != active_.end();) {
      if (it->second.expires <= now) {
        ended.push_back(std::move(it->second));
        it = active_.erase(it);
      } else {
        ++it;
      }
    }
    mutex_.Unlock();
    End(std::move(ended), "expired");
    mutex_.Lock();
  }
}

}  // namespace rtsptest::core
