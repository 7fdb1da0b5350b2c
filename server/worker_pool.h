// A fixed-size pool of threads for CPU work that must not run on gRPC's
// callback threads (image decoding, mask encoding, adapter validation and
// disk writes).
//
// Ownership: owns its threads; jobs are moved in and destroyed after they
// run. Threading: Schedule is safe from any thread, including a job.
// Shutdown (or the destructor) runs every job already scheduled, then joins;
// a Schedule after Shutdown began runs the job on the calling thread, so no
// job (and no completion it carries) is ever dropped.
#ifndef VLSM_SERVER_WORKER_POOL_H_
#define VLSM_SERVER_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace vlsm {

class WorkerPool {
 public:
  explicit WorkerPool(int num_threads);  // at least 1
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Schedule(std::function<void()> job) ABSL_LOCKS_EXCLUDED(mu_);
  // Runs the queued jobs, then joins the threads. Idempotent; must not be
  // called from a job.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // written only by the constructor and Shutdown
  absl::Mutex join_mu_;               // serializes Shutdown
};

}  // namespace vlsm

#endif  // VLSM_SERVER_WORKER_POOL_H_
