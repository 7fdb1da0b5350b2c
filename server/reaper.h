// A background thread that destroys what the serving threads let go of.
//
// Retired adapter versions, their device copies and registry snapshots can
// own device memory whose release is slow (a CUDA free synchronizes) or
// large; a batcher worker or gRPC thread that happens to drop the last
// reference must not pay for it. Objects made by Reaper::Manage carry a
// deleter that hands them to the reaper thread, so their destructor runs
// there whichever thread drops the last reference.
//
// Ownership: Reaper owns its thread. Managed objects do not keep the thread
// alive: once the Reaper is destroyed (after running everything queued),
// their deleters destroy inline on the releasing thread.
// Threading: Post, Manage, Flush are safe from any thread; Flush must not be
// called from the reaper thread. Errors: none; a posted closure must not
// throw.
#ifndef VLSM_SERVER_REAPER_H_
#define VLSM_SERVER_REAPER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace vlsm {

class Reaper {
 public:
  Reaper();
  // Runs everything already posted, then joins the thread.
  ~Reaper();
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  // Runs `fn` on the reaper thread (inline once the reaper is gone).
  void Post(std::function<void()> fn) { Post(state_, std::move(fn)); }

  // Shares `object`; its destructor runs on the reaper thread.
  template <typename T>
  std::shared_ptr<T> Manage(std::unique_ptr<T> object) {
    std::shared_ptr<State> state = state_;
    return std::shared_ptr<T>(object.release(), [state](T* p) { Post(state, [p] { delete p; }); });
  }
  // The same for an object already shared: the returned pointer's last
  // release hands `object`'s reference to the reaper thread.
  template <typename T>
  std::shared_ptr<T> Manage(std::shared_ptr<T> object) {
    if (object == nullptr) return nullptr;
    std::shared_ptr<State> state = state_;
    T* raw = object.get();
    return std::shared_ptr<T>(raw, [state, object = std::move(object)](T*) mutable {
      Post(state, [doomed = std::move(object)]() mutable { doomed.reset(); });
    });
  }

  // Waits until the queue is empty: everything posted, including what the
  // posted work itself posts (a snapshot releasing its versions), has run.
  void Flush();

  // Closures run so far (tests and metrics).
  uint64_t completed() const;

 private:
  struct State {
    absl::Mutex mu;
    absl::CondVar cv;  // queue, completed or stopping changed
    std::deque<std::function<void()>> queue ABSL_GUARDED_BY(mu);
    uint64_t posted ABSL_GUARDED_BY(mu) = 0;
    uint64_t completed ABSL_GUARDED_BY(mu) = 0;
    bool stopping ABSL_GUARDED_BY(mu) = false;
    bool gone ABSL_GUARDED_BY(mu) = false;  // the thread exited: run inline
  };
  static void Post(const std::shared_ptr<State>& state, std::function<void()> fn);
  void Loop();

  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::thread thread_;
};

}  // namespace vlsm

#endif  // VLSM_SERVER_REAPER_H_
