#include "server/batcher.h"

#include <algorithm>
#include <utility>

namespace vlsm {

Clock::~Clock() = default;

const Clock* RealClock::Get() {
  static const RealClock* const clock = new RealClock();
  return clock;
}

namespace {

DynamicBatcher::Options Clamp(DynamicBatcher::Options options) {
  options.max_batch_size = std::max(options.max_batch_size, 1);
  options.max_queue_size = std::max(options.max_queue_size, 1);
  options.num_workers = std::max(options.num_workers, 1);
  if (options.max_queue_delay < absl::ZeroDuration()) {
    options.max_queue_delay = absl::ZeroDuration();
  }
  return options;
}

}  // namespace

DynamicBatcher::DynamicBatcher(Options options, Executor executor, const Clock* clock)
    : options_(Clamp(options)),
      executor_(std::move(executor)),
      clock_(clock != nullptr ? clock : RealClock::Get()) {
  absl::MutexLock lock(&shutdown_mu_);
  for (int i = 0; i < options_.num_workers; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

DynamicBatcher::~DynamicBatcher() { Shutdown(absl::ZeroDuration()); }

absl::Status DynamicBatcher::Submit(std::unique_ptr<BatchTask> task) {
  if (task == nullptr || !task->done) {
    return absl::InvalidArgumentError("batch task without a done callback");
  }
  const absl::Time now = clock_->Now();
  if (now >= task->deadline) return absl::DeadlineExceededError("deadline passed before admission");
  if (task->cancelled != nullptr && task->cancelled->load()) {
    return absl::CancelledError("cancelled before admission");
  }
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("the batcher is shutting down");
  if (QueuedLocked() >= static_cast<size_t>(options_.max_queue_size)) {
    ReapLocked();  // cancelled and expired tasks give their slots back
    if (!reaped_.empty()) work_cv_.Signal();
    if (QueuedLocked() >= static_cast<size_t>(options_.max_queue_size)) {
      return absl::ResourceExhaustedError("batcher queue is full");
    }
  }
  std::deque<Entry>& queue = task->priority == RequestPriority::kStat ? stat_ : routine_;
  queue.push_back(Entry{std::move(task), now, absl::Now()});
  work_cv_.Signal();
  return absl::OkStatus();
}

void DynamicBatcher::NotifyCancelled() {
  absl::MutexLock lock(&mu_);
  work_cv_.Signal();
}

void DynamicBatcher::Shutdown(absl::Duration drain) {
  absl::MutexLock shutdown_lock(&shutdown_mu_);
  if (workers_.empty()) return;  // already shut down
  std::vector<Outcome> failed;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (drain > absl::ZeroDuration()) {  // else no worker may take anything more
      work_cv_.SignalAll();
      const absl::Time drain_end =
          drain == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + drain;
      mu_.AwaitWithDeadline(absl::Condition(this, &DynamicBatcher::IdleLocked), drain_end);
    }
    aborted_ = true;
    work_cv_.SignalAll();
    ReapLocked();
    failed = std::move(reaped_);
    reaped_.clear();
    const absl::Time now = clock_->Now();
    for (std::deque<Entry>* queue : {&stat_, &routine_}) {
      for (Entry& e : *queue) {
        BatchStats stats;
        stats.queue_time = now - e.admitted;
        failed.push_back(Outcome{std::move(e.task),
                                 absl::UnavailableError("the batcher shut down before this ran"),
                                 stats});
      }
      queue->clear();
    }
  }
  Complete(std::move(failed));
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
}

int DynamicBatcher::queue_depth() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(QueuedLocked());
}

int DynamicBatcher::in_flight() const {
  absl::MutexLock lock(&mu_);
  return in_flight_;
}

void DynamicBatcher::WorkerLoop() {
  for (;;) {
    std::vector<Entry> batch;
    std::vector<Outcome> dropped;
    bool keep_going;
    {
      absl::MutexLock lock(&mu_);
      keep_going = NextWorkLocked(&batch, &dropped);
      in_flight_ += static_cast<int>(batch.size());
    }
    Complete(std::move(dropped));
    if (!batch.empty()) RunBatch(std::move(batch));
    if (!keep_going) return;
  }
}

bool DynamicBatcher::NextWorkLocked(std::vector<Entry>* batch, std::vector<Outcome>* dropped) {
  for (;;) {
    if (aborted_) return false;  // Shutdown fails what is left
    ReapLocked();
    *dropped = std::move(reaped_);
    reaped_.clear();
    if (BatchReadyLocked()) {
      for (std::deque<Entry>* queue : {&stat_, &routine_}) {
        while (!queue->empty() && batch->size() < static_cast<size_t>(options_.max_batch_size)) {
          batch->push_back(std::move(queue->front()));
          queue->pop_front();
        }
      }
      if (QueuedLocked() > 0) work_cv_.Signal();  // hand the rest to another worker
      return true;
    }
    if (!dropped->empty()) return true;
    if (stopping_ && QueuedLocked() == 0) return false;  // drained
    if (QueuedLocked() > 0 && options_.max_queue_delay != absl::InfiniteDuration()) {
      work_cv_.WaitWithDeadline(&mu_, OldestAdmittedRealLocked() + options_.max_queue_delay);
    } else {
      work_cv_.Wait(&mu_);
    }
  }
}

void DynamicBatcher::ReapLocked() {
  const absl::Time now = clock_->Now();
  for (std::deque<Entry>* queue : {&stat_, &routine_}) {
    auto keep = queue->begin();
    for (auto it = queue->begin(); it != queue->end(); ++it) {
      absl::Status status;
      if (it->task->cancelled != nullptr && it->task->cancelled->load()) {
        status = absl::CancelledError("cancelled while queued");
      } else if (now >= it->task->deadline) {
        status = absl::DeadlineExceededError("deadline passed while queued");
      }
      if (status.ok()) {
        if (keep != it) *keep = std::move(*it);
        ++keep;
        continue;
      }
      BatchStats stats;
      stats.queue_time = now - it->admitted;
      reaped_.push_back(Outcome{std::move(it->task), std::move(status), stats});
    }
    queue->erase(keep, queue->end());
  }
}

bool DynamicBatcher::BatchReadyLocked() const {
  const size_t queued = QueuedLocked();
  if (queued == 0) return false;
  if (queued >= static_cast<size_t>(options_.max_batch_size) || stopping_) return true;
  if (options_.max_queue_delay == absl::InfiniteDuration()) return false;
  return absl::Now() >= OldestAdmittedRealLocked() + options_.max_queue_delay;
}

absl::Time DynamicBatcher::OldestAdmittedRealLocked() const {
  absl::Time oldest = absl::InfiniteFuture();
  if (!stat_.empty()) oldest = stat_.front().admitted_real;
  if (!routine_.empty()) oldest = std::min(oldest, routine_.front().admitted_real);
  return oldest;
}

bool DynamicBatcher::IdleLocked() const { return QueuedLocked() == 0 && in_flight_ == 0; }

void DynamicBatcher::RunBatch(std::vector<Entry> batch) {
  std::vector<const BatchTask*> tasks;
  tasks.reserve(batch.size());
  int rows = 0;
  for (const Entry& e : batch) {
    tasks.push_back(e.task.get());
    rows += static_cast<int>(e.task->prompts.size());
  }
  const int images = static_cast<int>(batch.size());
  if (on_batch) on_batch(images, rows);

  const absl::Time start = clock_->Now();
  absl::StatusOr<std::vector<std::vector<HostTensor>>> result = executor_(tasks);
  const absl::Time end = clock_->Now();

  absl::Status batch_status = result.status();
  if (batch_status.ok()) {
    bool counts_match = result->size() == batch.size();
    for (size_t i = 0; counts_match && i < batch.size(); ++i) {
      counts_match = (*result)[i].size() == batch[i].task->prompts.size();
    }
    if (!counts_match) {
      batch_status = absl::InternalError("the executor returned the wrong number of results");
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    BatchStats stats;
    stats.queue_time = start - batch[i].admitted;
    stats.compute_time = end - start;
    stats.batch_images = images;
    stats.batch_rows = rows;
    BatchTask& task = *batch[i].task;
    if (batch_status.ok()) {
      task.done(std::move((*result)[i]), stats);
    } else {
      task.done(batch_status, stats);
    }
    batch[i].task.reset();  // releases the image and the adapter version
  }
  absl::MutexLock lock(&mu_);
  in_flight_ -= images;
}

void DynamicBatcher::Complete(std::vector<Outcome> outcomes) {
  for (Outcome& o : outcomes) {
    o.task->done(std::move(o.status), o.stats);
    o.task.reset();
  }
}

}  // namespace vlsm
