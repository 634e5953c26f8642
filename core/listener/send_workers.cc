// SendWorkers: see send_workers.h.
#include "core/listener/send_workers.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

namespace rtsptest::core {

SendWorkers& SendWorkers::Shared() {
  // Never destroyed: gst-rtsp-server may write to a connection until the
  // process ends. One per core: a stream's fan-out (fan_out.h) runs on them
  // all, and leaves its send thread little to do.
  static SendWorkers* const workers =
      new SendWorkers(std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8));
  return *workers;
}

SendWorkers::SendWorkers(size_t count) {
  for (size_t i = 0; i < std::max<size_t>(count, 1); ++i) {
    workers_.push_back(std::make_unique<Worker>());
  }
}

SendWorkers::~SendWorkers() = default;

void SendWorkers::Schedule(const std::shared_ptr<SendQueue>& queue, bool urgent) {
  const bool listed = queue->scheduled().exchange(true, std::memory_order_acq_rel);
  if (listed && !urgent) return;
  workers_[WorkerOf(*queue)]->Add(queue, listed, urgent);
}

void SendWorkers::Schedule(absl::Span<const std::shared_ptr<SendQueue>> queues, bool urgent) {
  thread_local std::vector<std::vector<std::shared_ptr<SendQueue>>> fresh;
  thread_local std::vector<bool> touched;
  fresh.resize(workers_.size());
  touched.assign(workers_.size(), false);
  for (const auto& queue : queues) {
    const size_t worker = WorkerOf(*queue);
    touched[worker] = true;
    if (!queue->scheduled().exchange(true, std::memory_order_acq_rel)) {
      fresh[worker].push_back(queue);
    }
  }
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (!fresh[i].empty() || (urgent && touched[i])) workers_[i]->AddAll(fresh[i], urgent);
  }
}

void SendWorkers::Post(size_t worker, std::function<void()> task) {
  workers_[worker % workers_.size()]->Post(std::move(task));
}

SendWorkers::Worker::Worker() : thread_([this] { Run(); }) {
  pthread_setname_np(thread_.native_handle(), "rtsp-send");
}

SendWorkers::Worker::~Worker() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void SendWorkers::Worker::Add(const std::shared_ptr<SendQueue>& queue, bool listed, bool urgent) {
  absl::MutexLock lock(&mu_);
  if (!listed) listed_.push_back(queue);
  if (urgent) urgent_ = true;
}

void SendWorkers::Worker::AddAll(std::vector<std::shared_ptr<SendQueue>>& queues, bool urgent) {
  absl::MutexLock lock(&mu_);
  for (auto& queue : queues) listed_.push_back(std::move(queue));
  queues.clear();
  if (urgent) urgent_ = true;
}

void SendWorkers::Worker::Post(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  tasks_.push_back(std::move(task));
}

void SendWorkers::Worker::Run() {
  // Below the threads that answer health checks and the control API, and
  // the encoders: where the scheduler's fairness decides who waits for a
  // core, checks and frames go first (docs/benchmarks.md measures how little
  // that is on a loaded VM), and a worker that falls behind writes several
  // items at once (Schedule). Best effort: a failure leaves the default
  // priority.
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kNice);
  std::vector<std::function<void()>> tasks;
  std::vector<std::shared_ptr<SendQueue>> batch;
  std::vector<std::shared_ptr<SendQueue>> retry;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      const auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return urgent_ || stopping_ || !tasks_.empty();
      };
      const auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return urgent_ || stopping_ || !tasks_.empty() || !listed_.empty();
      };
      // Idle workers sleep; listed work waits at most kLazyFlush.
      if (retry.empty()) mu_.Await(absl::Condition(&has_work));
      mu_.AwaitWithTimeout(absl::Condition(&woken), kLazyFlush);
      if (stopping_) return;
      urgent_ = false;
      tasks.swap(tasks_);
      batch.swap(listed_);
      for (auto& queue : retry) {
        if (!queue->scheduled().exchange(true, std::memory_order_acq_rel)) {
          batch.push_back(std::move(queue));
        }
      }
      retry.clear();
    }
    for (auto& task : tasks) task();
    tasks.clear();
    for (auto& queue : batch) {
      // Cleared first: bytes appended from here on list the queue again.
      queue->scheduled().store(false, std::memory_order_release);
      if (queue->Flush()) retry.push_back(std::move(queue));
    }
    batch.clear();
  }
}

}  // namespace rtsptest::core
