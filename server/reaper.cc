#include "server/reaper.h"

#include <utility>

namespace vlsm {

Reaper::Reaper() : thread_([this] { Loop(); }) {}

Reaper::~Reaper() {
  {
    absl::MutexLock lock(&state_->mu);
    state_->stopping = true;
    state_->cv.SignalAll();
  }
  thread_.join();
}

void Reaper::Post(const std::shared_ptr<State>& state, std::function<void()> fn) {
  {
    absl::MutexLock lock(&state->mu);
    if (!state->gone) {
      state->queue.push_back(std::move(fn));
      ++state->posted;
      state->cv.SignalAll();
      return;
    }
  }
  fn();  // the reaper is gone: release on this thread
}

void Reaper::Loop() {
  State& s = *state_;
  for (;;) {
    std::function<void()> fn;
    {
      absl::MutexLock lock(&s.mu);
      while (s.queue.empty() && !s.stopping) s.cv.Wait(&s.mu);
      if (s.queue.empty()) {  // stopping and drained
        s.gone = true;
        s.cv.SignalAll();
        return;
      }
      fn = std::move(s.queue.front());
      s.queue.pop_front();
    }
    fn();
    fn = nullptr;  // destroy captures here, before counting the work done
    absl::MutexLock lock(&s.mu);
    ++s.completed;
    s.cv.SignalAll();
  }
}

void Reaper::Flush() {
  State& s = *state_;
  absl::MutexLock lock(&s.mu);
  while (s.completed < s.posted && !s.gone) s.cv.Wait(&s.mu);
}

uint64_t Reaper::completed() const {
  absl::MutexLock lock(&state_->mu);
  return state_->completed;
}

}  // namespace vlsm
