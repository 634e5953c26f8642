// SendWorkers: the threads that write SendQueues (send_queue.h) to their
// sockets, one queue always on the same worker, so that its bytes leave in
// order and the fan-out of one stream to many TCP readers uses every core.
//
// A queue is flushed at once when it ends a batch (the end of a frame, an
// RTSP message), and otherwise within kLazyFlush (audio, whose packets carry
// no end-of-frame marker). A queue whose socket is full is tried again then.
#ifndef RTSPTEST_CORE_LISTENER_SEND_WORKERS_H_
#define RTSPTEST_CORE_LISTENER_SEND_WORKERS_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/listener/send_queue.h"

namespace rtsptest::core {

class SendWorkers {
 public:
  static constexpr absl::Duration kLazyFlush = absl::Milliseconds(10);
  // The workers' nice value (setpriority).
  static constexpr int kNice = 10;

  // The process's workers, one per core (at most 8),
  // started on first use and kept for the life of the process.
  static SendWorkers& Shared();

  explicit SendWorkers(size_t count);
  // Stops and joins the workers; queues still listed are not flushed.
  ~SendWorkers();

  SendWorkers(const SendWorkers&) = delete;
  SendWorkers& operator=(const SendWorkers&) = delete;

  // Has `queue` flushed by its worker: now if `urgent`, else within
  // kLazyFlush. Cheap when the queue is already listed.
  void Schedule(const std::shared_ptr<SendQueue>& queue, bool urgent);
  // The same for many queues, taking each worker's lock once. An urgent
  // flush runs after the tasks already posted to the worker, so a worker
  // that is behind writes several of a reader's items at once.
  void Schedule(absl::Span<const std::shared_ptr<SendQueue>> queues, bool urgent);

  // Runs `task` on worker `worker` (0 to size() - 1), after the tasks posted
  // to it before, ahead of its next flushes.
  void Post(size_t worker, std::function<void()> task);

  size_t size() const { return workers_.size(); }
  // The worker that writes `queue`: always the same one.
  size_t WorkerOf(const SendQueue& queue) const { return queue.id() % workers_.size(); }

 private:
  class Worker {
   public:
    Worker();
    ~Worker();
    void Add(const std::shared_ptr<SendQueue>& queue, bool listed, bool urgent);
    void AddAll(std::vector<std::shared_ptr<SendQueue>>& queues, bool urgent);
    void Post(std::function<void()> task);

   private:
    void Run();

    absl::Mutex mu_;
    std::vector<std::shared_ptr<SendQueue>> listed_ ABSL_GUARDED_BY(mu_);
    std::vector<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
    bool urgent_ ABSL_GUARDED_BY(mu_) = false;
    bool stopping_ ABSL_GUARDED_BY(mu_) = false;
    std::thread thread_;
  };

  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_LISTENER_SEND_WORKERS_H_
