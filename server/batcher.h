// A dynamic batcher: admits segmentation requests one at a time and hands
// them to an executor in batches (Triton's dynamic batcher, reduced to what
// one CLIPSeg engine needs).
//
// Scheduling: two FIFO queues, STAT before ROUTINE. A worker takes a batch
// when max_batch_size tasks are queued, or when the oldest queued task has
// waited max_queue_delay (real time; ZeroDuration takes whatever is queued at
// once, InfiniteDuration takes only full batches until Shutdown flushes).
// Cancelled tasks and tasks whose deadline has passed (clock Now() >=
// deadline) are completed with CANCELLED / DEADLINE_EXCEEDED when the
// batcher next looks at its queues; they never reach the executor and do
// not count toward a batch. A Submit that finds the queue full reaps them
// first, so a cancelled task frees its slot immediately.
//
// Ownership: the batcher owns every admitted task until its `done` returns;
// the executor and the clock are borrowed (the clock must outlive the
// batcher). A task's shared_ptr<const AdapterVersion> keeps that adapter
// version alive until the task completes.
// Threading: Submit, Shutdown, NotifyCancelled, queue_depth and in_flight are
// safe from any thread. `num_workers` threads run the executor; several
// batches may run at once when num_workers > 1. One mutex guards the queues
// and is held only to move tasks in and out; never while the executor, a
// `done` or an observer hook runs. `done` is called exactly once per
// admitted task, from a worker thread, or from the thread calling Shutdown
// (or the destructor) for tasks failed at the end of the drain.
// Errors: Submit returns the admission decision; on OK the outcome arrives
// through `done`: the logits, DEADLINE_EXCEEDED, CANCELLED, UNAVAILABLE
// (shutdown), the executor's error (shared by the whole batch), or INTERNAL
// when the executor returns the wrong number of results.
#ifndef VLSM_SERVER_BATCHER_H_
#define VLSM_SERVER_BATCHER_H_

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "model/engine.h"
#include "model/host_tensor.h"
#include "server/adapter_registry.h"

namespace vlsm {

// Time source for deadlines and BatchStats (tests inject a fake one). The
// max_queue_delay timer always runs on real time.
class Clock {
 public:
  virtual ~Clock();
  virtual absl::Time Now() const = 0;
};

class RealClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  // A process-wide instance (never destroyed).
  static const Clock* Get();
};

enum class RequestPriority { kRoutine, kStat };

struct BatchStats {
  absl::Duration queue_time;    // admitted -> batch started (or -> dropped)
  absl::Duration compute_time;  // the executor call, shared by the batch
  int batch_images = 0;         // tasks (images) in the batch; 0 if never run
  int batch_rows = 0;           // prompts in the batch
};

// One admitted request: an image with K prompts for one adapter (the engine
// runs its backbone once).
struct BatchTask {
  HostTensor image;                               // [3,S,S] normalized
  std::vector<Prompt> prompts;                    // one logit map per prompt
  std::shared_ptr<const AdapterVersion> adapter;  // null = base model
  RequestPriority priority = RequestPriority::kRoutine;
  absl::Time deadline = absl::InfiniteFuture();
  // Called exactly once, never under the batcher's lock: the logits per
  // prompt in order, or an error. Must not block for long, nor call
  // Shutdown (a worker cannot join itself); Submit is fine.
  std::function<void(absl::StatusOr<std::vector<HostTensor>>, const BatchStats&)> done;
  // Set from any thread (e.g. the RPC's OnCancel); a cancelled task is
  // dropped before compute and frees its slot.
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
};

class DynamicBatcher {
 public:
  struct Options {
    int max_batch_size = 8;  // images (tasks) per batch; at least 1
    absl::Duration max_queue_delay = absl::Milliseconds(2);
    int max_queue_size = 256;  // queued (not running) tasks; at least 1
    int num_workers = 1;       // at least 1
  };

  // Runs one batch: all tasks' images and prompts (e.g. as one
  // Engine::Segment call). Returns, per task in order, the logits per prompt.
  using Executor = std::function<absl::StatusOr<std::vector<std::vector<HostTensor>>>(
      const std::vector<const BatchTask*>&)>;

  // Starts the workers. Out-of-range options are clamped to 1. `clock` is
  // not owned; null means RealClock::Get().
  DynamicBatcher(Options options, Executor executor, const Clock* clock = nullptr);
  // Shutdown(absl::ZeroDuration()) unless Shutdown already ran.
  ~DynamicBatcher();

  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  // Admits `task`. InvalidArgument without a task or a `done`;
  // DEADLINE_EXCEEDED if its deadline has passed, CANCELLED if it is already
  // cancelled, UNAVAILABLE once Shutdown began, RESOURCE_EXHAUSTED when
  // max_queue_size tasks are queued; all at once, without calling `done`.
  // On OK, `done` will be called exactly once.
  absl::Status Submit(std::unique_ptr<BatchTask> task) ABSL_LOCKS_EXCLUDED(mu_);

  // Optional: wakes a worker so that tasks cancelled since are completed
  // now rather than at the next batcher event.
  void NotifyCancelled() ABSL_LOCKS_EXCLUDED(mu_);

  // Stops admitting, lets queued and running work finish for up to `drain`
  // (partial batches run at once), then fails whatever is still queued with
  // UNAVAILABLE and joins the workers (which waits for running batches: an
  // executor call is never interrupted). Later calls return at once.
  void Shutdown(absl::Duration drain) ABSL_LOCKS_EXCLUDED(mu_, shutdown_mu_);

  int queue_depth() const ABSL_LOCKS_EXCLUDED(mu_);  // tasks waiting
  int in_flight() const ABSL_LOCKS_EXCLUDED(mu_);    // tasks in running batches

  // Observer hook for metrics (optional; set before the first Submit):
  // called by a worker, outside the lock, just before each executor call.
  std::function<void(int batch_images, int batch_rows)> on_batch;

 private:
  struct Entry {
    std::unique_ptr<BatchTask> task;
    absl::Time admitted;       // on clock_: deadlines and stats
    absl::Time admitted_real;  // on absl::Now(): the max_queue_delay timer
  };
  struct Outcome {
    std::unique_ptr<BatchTask> task;
    absl::Status status;
    BatchStats stats;
  };

  void WorkerLoop() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until there is work: fills `batch` and/or `dropped`. Returns false
  // when the worker should exit.
  bool NextWorkLocked(std::vector<Entry>* batch, std::vector<Outcome>* dropped)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves cancelled and expired tasks out of the queues into `reaped_`.
  void ReapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool BatchReadyLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Time OldestAdmittedRealLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool IdleLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  size_t QueuedLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stat_.size() + routine_.size();
  }
  void RunBatch(std::vector<Entry> batch) ABSL_LOCKS_EXCLUDED(mu_);
  static void Complete(std::vector<Outcome> outcomes);

  const Options options_;
  const Executor executor_;
  const Clock* const clock_;

  mutable absl::Mutex mu_;
  absl::CondVar work_cv_;  // queues changed, or shutdown progressed
  std::deque<Entry> stat_ ABSL_GUARDED_BY(mu_);
  std::deque<Entry> routine_ ABSL_GUARDED_BY(mu_);
  std::vector<Outcome> reaped_ ABSL_GUARDED_BY(mu_);  // dropped, awaiting `done`
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // no admission; flush partial batches
  bool aborted_ ABSL_GUARDED_BY(mu_) = false;   // drain over; workers take nothing more

  absl::Mutex shutdown_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // serializes Shutdown
  std::vector<std::thread> workers_ ABSL_GUARDED_BY(shutdown_mu_);
};

}  // namespace vlsm

#endif  // VLSM_SERVER_BATCHER_H_
