// HealthMonitor: see health_monitor.h.
#include "health/monitor/health_monitor.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace rtsptest::health {
namespace {

const char* ServingName(bool serving) { return serving ? "SERVING" : "NOT_SERVING"; }

std::string FormatLatency(absl::Duration latency) {
  return absl::StrCat(absl::ToDoubleMilliseconds(latency), "ms");
}

}  // namespace

void LogToJsonLog(common::LogLevel level, const std::string& message, const LogFields& fields) {
  std::vector<common::LogField> converted;
  converted.reserve(fields.size() + 1);
  converted.emplace_back("source", "health");
  for (const auto& [key, value] : fields) converted.emplace_back(key, value);
  common::Log(level, message, converted);
}

absl::StatusOr<std::unique_ptr<HealthMonitor>> HealthMonitor::Create(HealthMonitorOptions options,
                                                                     HealthPublisher* publisher) {
  if (publisher == nullptr) return absl::InvalidArgumentError("health monitor: no publisher");
  if (options.interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "health.probe_interval=", absl::FormatDuration(options.interval), ": must be > 0"));
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "health.probe_timeout=", absl::FormatDuration(options.timeout), ": must be > 0"));
  }
  absl::flat_hash_set<std::string> names;
  for (const ListenerSpec& l : options.listeners) {
    if (l.port < 1 || l.port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("listener ", l.name, ": port=", l.port, ": must be 1..65535"));
    }
    if (!names.insert(l.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("listener ", l.name, ": duplicate name"));
    }
  }
  absl::StatusOr<common::KOfNRule> rule = common::KOfNRule::Create(
      static_cast<int>(options.listeners.size()), options.min_healthy_listeners);
  if (!rule.ok()) return rule.status();
  if (!options.log) options.log = [](common::LogLevel, const std::string&, const LogFields&) {};
  return std::unique_ptr<HealthMonitor>(new HealthMonitor(std::move(options), *rule, publisher));
}

HealthMonitor::HealthMonitor(HealthMonitorOptions options, common::KOfNRule rule,
                             HealthPublisher* publisher)
    : options_(std::move(options)),
      rule_(rule),
      publisher_(publisher),
      prober_(common::ProbeOptions{options_.timeout, options_.deep_check}) {
  absl::MutexLock lock(&mu_);
  for (const ListenerSpec& l : options_.listeners) {
    bound_.push_back(l.bound);
    ListenerHealth h;
    h.listener = l;
    snapshot_.listeners.push_back(std::move(h));
  }
  snapshot_.min_healthy_listeners = rule_.k();
}

HealthMonitor::~HealthMonitor() { Stop(); }

absl::Status HealthMonitor::Start() {
  absl::MutexLock lock(&mu_);
  if (started_) return absl::FailedPreconditionError("health monitor: already started");
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
  options_.log(common::LogLevel::kInfo, "health monitor started",
               {{"listeners", std::to_string(options_.listeners.size())},
                {"rule", rule_.ToString()},
                {"interval", absl::FormatDuration(options_.interval)},
                {"timeout", absl::FormatDuration(options_.timeout)},
                {"deep_check", options_.deep_check ? "true" : "false"}});
  return absl::OkStatus();
}

void HealthMonitor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void HealthMonitor::SetDraining() {
  absl::MutexLock publish_lock(&publish_mu_);
  if (draining_) return;
  draining_ = true;
  HealthSnapshot snapshot;
  {
    absl::MutexLock lock(&mu_);
    snapshot = snapshot_;
  }
  snapshot.time = absl::Now();
  options_.log(common::LogLevel::kWarning, "health: draining, every name is now NOT_SERVING",
               {{"round", std::to_string(snapshot.round)}});
  PublishLocked(std::move(snapshot));
}

absl::Status HealthMonitor::SetListenerBound(const std::string& name, bool bound) {
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < options_.listeners.size(); ++i) {
    if (options_.listeners[i].name == name) {
      bound_[i] = bound;
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError(absl::StrCat("listener ", name, ": unknown"));
}

absl::StatusOr<HealthSnapshot> HealthMonitor::ProbeNow(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  if (!started_ || stop_) {
    return absl::FailedPreconditionError("health monitor: not running");
  }
  // A round in flight may have read the listeners before this call, so wait
  // for the next one to start and finish.
  const int64_t target = rounds_started_ + 1;
  round_requested_ = true;
  auto done = [this, target]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return rounds_completed_ >= target || stop_;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&done), timeout)) {
    return absl::DeadlineExceededError(absl::StrCat(
        "health monitor: round ", target, " not done within ", absl::FormatDuration(timeout)));
  }
  if (rounds_completed_ < target) return absl::CancelledError("health monitor: stopped");
  return snapshot_;
}

bool HealthMonitor::AwaitRound(int64_t round, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto done = [this, round]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return rounds_completed_ >= round; };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

HealthSnapshot HealthMonitor::snapshot() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

void HealthMonitor::Loop() {
  absl::Time next_round = absl::InfinitePast();  // The first round starts at once.
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || round_requested_; };
      // Sleeps until the interval has passed, a round is requested or Stop().
      mu_.AwaitWithDeadline(absl::Condition(&wake), next_round);
      if (stop_) return;
      round_requested_ = false;
      ++rounds_started_;
    }
    RunRound();
    next_round = absl::Now() + options_.interval;
  }
}

void HealthMonitor::RunRound() {
  std::vector<bool> bound;
  {
    absl::MutexLock lock(&mu_);
    bound = bound_;
  }
  // Only bound listeners are probed: an unbound port might be someone
  // else's, and it is down whatever answers there.
  std::vector<common::ProbeTarget> targets;
  std::vector<size_t> probed;
  for (size_t i = 0; i < options_.listeners.size(); ++i) {
    if (!bound[i]) continue;
    const ListenerSpec& l = options_.listeners[i];
    targets.push_back(common::ProbeTarget{l.host, l.port, l.describe_path});
    probed.push_back(i);
  }
  std::vector<common::ProbeResult> results = prober_.ProbeAll(targets);

  absl::MutexLock publish_lock(&publish_mu_);
  HealthSnapshot previous;
  {
    absl::MutexLock lock(&mu_);
    previous = snapshot_;
  }
  HealthSnapshot next;
  next.listeners = previous.listeners;
  for (size_t i = 0; i < next.listeners.size(); ++i) {
    ListenerHealth& h = next.listeners[i];
    h.listener.bound = bound[i];
    if (!bound[i]) {
      h.serving = false;
      h.failure = common::ProbeFailure::kNotBound;
      h.last_error = absl::StrCat("port ", h.listener.port, ": not bound by the server");
      h.last_latency = absl::ZeroDuration();
    }
  }
  for (size_t j = 0; j < probed.size(); ++j) {
    ListenerHealth& h = next.listeners[probed[j]];
    const common::ProbeResult& r = results[j];
    h.serving = r.ok;
    h.failure = r.failure;
    h.last_error = r.ok ? "" : r.reason;
    h.last_latency = r.latency;
  }
  for (ListenerHealth& h : next.listeners) {
    h.consecutive_failures = h.serving ? 0 : h.consecutive_failures + 1;
    if (h.serving) ++next.healthy_listeners;
  }
  next.round = previous.round + 1;
  next.first_round_done = true;
  next.min_healthy_listeners = rule_.k();
  next.serving = rule_.Evaluate(next.healthy_listeners);
  next.time = absl::Now();
  LogChanges(previous, next, draining_);
  PublishLocked(std::move(next));
}

void HealthMonitor::PublishLocked(HealthSnapshot snapshot) {
  if (draining_) {
    snapshot.draining = true;
    snapshot.serving = false;
  }
  // The snapshot is stored before it is published: whoever reacts to the
  // published status (a Watch client, the gateway's GetHealthReport) must
  // find snapshot() at least as new as that status.
  bool new_round;
  {
    absl::MutexLock lock(&mu_);
    new_round = snapshot.round > snapshot_.round;
    snapshot_ = snapshot;
  }
  publisher_->Publish(snapshot);
  // Waiters (ProbeNow, AwaitRound) wake only after the publisher has seen
  // the round, so a test can check the publisher right after they return.
  absl::MutexLock lock(&mu_);
  if (new_round) ++rounds_completed_;
}

void HealthMonitor::LogChanges(const HealthSnapshot& before, const HealthSnapshot& after,
                               bool draining) const {
  // While draining the server refuses new sessions on purpose: listener
  // failures are expected and would only be noise.
  if (!draining) {
    for (size_t i = 0; i < after.listeners.size(); ++i) {
      const ListenerHealth& a = after.listeners[i];
      const ListenerHealth& b = before.listeners[i];
      const bool first = !before.first_round_done;
      if (!first && a.serving == b.serving && a.failure == b.failure) continue;
      LogFields fields = {{"listener", a.listener.name}, {"port", std::to_string(a.listener.port)}};
      if (a.serving) {
        fields.emplace_back("latency", FormatLatency(a.last_latency));
        options_.log(common::LogLevel::kInfo, absl::StrCat("listener ", a.listener.name, " is up"),
                     fields);
      } else {
        fields.emplace_back("failure", std::string(common::ProbeFailureName(a.failure)));
        fields.emplace_back("reason", a.last_error);
        options_.log(common::LogLevel::kWarning,
                     absl::StrCat("listener ", a.listener.name, " is down: ", a.last_error),
                     fields);
      }
    }
  }
  if (before.first_round_done && before.serving == after.serving) return;
  const bool was = before.first_round_done && before.serving;
  options_.log(after.serving ? common::LogLevel::kInfo : common::LogLevel::kError,
               absl::StrCat("health: ", ServingName(was), " -> ", ServingName(after.serving), " (",
                            after.healthy_listeners, " of ", after.listeners.size(),
                            " listeners up, need ", rule_.k(), ")"),
               {{"round", std::to_string(after.round)},
                {"healthy", std::to_string(after.healthy_listeners)},
                {"min_healthy", std::to_string(rule_.k())}});
}

}  // namespace rtsptest::health
