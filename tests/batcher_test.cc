// The dynamic batcher: batch formation, priorities, admission control,
// deadlines, cancellation, error fan-out, shutdown, exactly-once completion,
// and the Engine executor against the tiny model. No test sleeps: a fake
// executor holds a batch in flight on a Notification and a fake clock moves
// deadlines.
#include "server/batcher.h"

#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/engine_executor.h"
#include "tests/support/cases.h"

namespace vlsm {
namespace {

using test_support::TestData;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class FakeClock : public Clock {
 public:
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::FromUnixSeconds(1000000);
};

// A task's id travels as its first prompt's first token; the fake executor
// answers prompt j of task `id` with a [1] tensor holding id * 100 + j.
int IdOf(const BatchTask& task) { return static_cast<int>(task.prompts[0].input_ids[0]); }

class FakeExecutor {
 public:
  // The first batch signals `entered` and waits for `release`.
  void HoldFirstBatch() { hold_first_ = true; }
  void FailWith(absl::Status status) { error_ = std::move(status); }
  void DropLastResult() { drop_last_ = true; }

  DynamicBatcher::Executor Get() {
    return [this](const std::vector<const BatchTask*>& tasks)
               -> absl::StatusOr<std::vector<std::vector<HostTensor>>> {
      std::vector<int> ids;
      for (const BatchTask* t : tasks) ids.push_back(IdOf(*t));
      bool hold;
      {
        absl::MutexLock lock(&mu_);
        batches_.push_back(ids);
        hold = hold_first_ && batches_.size() == 1;
      }
      if (hold) {
        entered.Notify();
        release.WaitForNotification();
      }
      if (!error_.ok()) return error_;
      std::vector<std::vector<HostTensor>> out;
      for (const BatchTask* t : tasks) {
        std::vector<HostTensor> maps;
        for (size_t j = 0; j < t->prompts.size(); ++j) {
          maps.push_back(HostTensor{{1}, {static_cast<float>(IdOf(*t) * 100 + j)}});
        }
        out.push_back(std::move(maps));
      }
      if (drop_last_) out.pop_back();
      return out;
    };
  }

  // Lets the held batch go (idempotent).
  void Release() {
    if (!release.HasBeenNotified()) release.Notify();
  }

  std::vector<std::vector<int>> batches() const {
    absl::MutexLock lock(&mu_);
    return batches_;
  }

  absl::Notification entered, release;

 private:
  bool hold_first_ = false;
  bool drop_last_ = false;
  absl::Status error_;
  mutable absl::Mutex mu_;
  std::vector<std::vector<int>> batches_ ABSL_GUARDED_BY(mu_);
};

// Declared after the batcher: releases a held batch before the batcher's
// destructor joins its workers, so a failed ASSERT cannot hang the test.
struct ReleaseOnExit {
  FakeExecutor& exec;
  ~ReleaseOnExit() { exec.Release(); }
};

// What a task's `done` received.
struct Outcome {
  absl::Notification notified;
  std::atomic<int> calls{0};
  absl::StatusOr<std::vector<HostTensor>> result = absl::UnknownError("not called");
  BatchStats stats;

  // Bounded, so that a lost `done` fails the test instead of hanging it.
  void Wait() {
    if (!notified.WaitForNotificationWithTimeout(absl::Seconds(60))) {
      ADD_FAILURE() << "done was never called";
    }
  }
  absl::StatusCode code() {
    Wait();
    return result.status().code();
  }
};

std::unique_ptr<BatchTask> MakeTask(int id, Outcome* outcome,
                                    RequestPriority priority = RequestPriority::kRoutine,
                                    int num_prompts = 1) {
  auto task = std::make_unique<BatchTask>();
  task->image = HostTensor{{3, 1, 1}, {0, 0, 0}};
  for (int j = 0; j < num_prompts; ++j) task->prompts.push_back(Prompt{{id, j}, {}});
  task->priority = priority;
  task->done = [outcome](absl::StatusOr<std::vector<HostTensor>> result, const BatchStats& stats) {
    if (outcome->calls.fetch_add(1) > 0) return;  // counted; the test fails on calls != 1
    outcome->result = std::move(result);
    outcome->stats = stats;
    outcome->notified.Notify();
  };
  return task;
}

// Long enough for any queued work to finish; bounded, so a batcher that
// never drains fails the test (UNAVAILABLE) instead of hanging it.
constexpr absl::Duration kDrainAll = absl::Seconds(60);

DynamicBatcher::Options Opts(int max_batch, absl::Duration delay, int max_queue = 256) {
  DynamicBatcher::Options o;
  o.max_batch_size = max_batch;
  o.max_queue_delay = delay;
  o.max_queue_size = max_queue;
  return o;
}

float Value(Outcome& o, size_t prompt = 0) {
  o.Wait();
  if (!o.result.ok() || o.result->size() <= prompt) return -1;
  return (*o.result)[prompt].data[0];
}

TEST(BatcherTest, FullBatchFormsAtMaxBatchSize) {
  FakeExecutor exec;
  Outcome o[5];
  DynamicBatcher batcher(Opts(3, absl::InfiniteDuration()), exec.Get());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(batcher.Submit(MakeTask(i, &o[i], {}, 2)).ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Value(o[i], 0), i * 100);
    EXPECT_EQ(Value(o[i], 1), i * 100 + 1);
    EXPECT_EQ(o[i].stats.batch_images, 3);
    EXPECT_EQ(o[i].stats.batch_rows, 6);
  }
  EXPECT_THAT(exec.batches(), ElementsAre(ElementsAre(0, 1, 2)));

  // Two more never make a full batch: they wait until Shutdown flushes them.
  for (int i = 3; i < 5; ++i) ASSERT_TRUE(batcher.Submit(MakeTask(i, &o[i])).ok());
  EXPECT_EQ(batcher.queue_depth(), 2);
  EXPECT_EQ(o[3].calls.load(), 0);
  batcher.Shutdown(kDrainAll);
  EXPECT_EQ(Value(o[3]), 300);
  EXPECT_EQ(Value(o[4]), 400);
  EXPECT_THAT(exec.batches(), ElementsAre(ElementsAre(0, 1, 2), ElementsAre(3, 4)));
  for (Outcome& x : o) EXPECT_EQ(x.calls.load(), 1);
}

TEST(BatcherTest, ZeroDelayFlushesPartialBatches) {
  FakeExecutor exec;
  exec.HoldFirstBatch();
  Outcome o[4];
  DynamicBatcher batcher(Opts(8, absl::ZeroDuration()), exec.Get());
  ReleaseOnExit release_on_exit{exec};
  int batches_seen = 0, rows_seen = 0;
  batcher.on_batch = [&](int /*images*/, int rows) {
    batches_seen += 1;  // workers run one at a time here (num_workers = 1)
    rows_seen += rows;
  };
  ASSERT_TRUE(batcher.Submit(MakeTask(0, &o[0])).ok());
  exec.entered.WaitForNotification();  // a batch of one, taken at once
  EXPECT_EQ(batcher.in_flight(), 1);
  for (int i = 1; i < 4; ++i) ASSERT_TRUE(batcher.Submit(MakeTask(i, &o[i])).ok());
  EXPECT_EQ(batcher.queue_depth(), 3);
  exec.Release();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Value(o[i]), i * 100);
  EXPECT_THAT(exec.batches(), ElementsAre(ElementsAre(0), ElementsAre(1, 2, 3)));
  EXPECT_EQ(o[3].stats.batch_images, 3);
  batcher.Shutdown(kDrainAll);
  EXPECT_EQ(batches_seen, 2);
  EXPECT_EQ(rows_seen, 4);
}

TEST(BatcherTest, PartialBatchFlushedWhenTheDelayExpires) {
  // The timer runs on real time; the test only waits for completion.
  FakeExecutor exec;
  Outcome o[2];
  DynamicBatcher batcher(Opts(8, absl::Milliseconds(1)), exec.Get());
  ASSERT_TRUE(batcher.Submit(MakeTask(0, &o[0])).ok());
  ASSERT_TRUE(batcher.Submit(MakeTask(1, &o[1])).ok());
  EXPECT_EQ(Value(o[0]), 0);
  EXPECT_EQ(Value(o[1]), 100);
  size_t tasks = 0;
  for (const auto& b : exec.batches()) tasks += b.size();
  EXPECT_EQ(tasks, 2u);
}

TEST(BatcherTest, QueueFullRejectsAtOnceAndQueuedWorkCompletes) {
  FakeExecutor exec;
  exec.HoldFirstBatch();
  Outcome o[4];
  DynamicBatcher batcher(Opts(1, absl::ZeroDuration(), /*max_queue=*/2), exec.Get());
  ReleaseOnExit release_on_exit{exec};
  ASSERT_TRUE(batcher.Submit(MakeTask(0, &o[0])).ok());
  exec.entered.WaitForNotification();  // running, so not queued
  ASSERT_TRUE(batcher.Submit(MakeTask(1, &o[1])).ok());
  ASSERT_TRUE(batcher.Submit(MakeTask(2, &o[2])).ok());
  EXPECT_EQ(batcher.Submit(MakeTask(3, &o[3])).code(), absl::StatusCode::kResourceExhausted);
  exec.Release();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Value(o[i]), i * 100);
  batcher.Shutdown(kDrainAll);
  EXPECT_EQ(o[3].calls.load(), 0);
  EXPECT_THAT(exec.batches(), ElementsAre(ElementsAre(0), ElementsAre(1), ElementsAre(2)));
}

TEST(BatcherTest, StatRunsBeforeRoutineAndEachClassIsFifo) {
  FakeExecutor exec;
  exec.HoldFirstBatch();
  Outcome o[6];
  DynamicBatcher batcher(Opts(2, absl::ZeroDuration()), exec.Get());
  ReleaseOnExit release_on_exit{exec};
  ASSERT_TRUE(batcher.Submit(MakeTask(0, &o[0])).ok());
  exec.entered.WaitForNotification();
  ASSERT_TRUE(batcher.Submit(MakeTask(1, &o[1], RequestPriority::kRoutine)).ok());
  ASSERT_TRUE(batcher.Submit(MakeTask(2, &o[2], RequestPriority::kRoutine)).ok());
  ASSERT_TRUE(batcher.Submit(MakeTask(3, &o[3], RequestPriority::kStat)).ok());
  ASSERT_TRUE(batcher.Submit(MakeTask(4, &o[4], RequestPriority::kRoutine)).ok());
  ASSERT_TRUE(batcher.Submit(MakeTask(5, &o[5], RequestPriority::kStat)).ok());
  exec.Release();
  for (Outcome& x : o) x.Wait();
  EXPECT_THAT(exec.batches(),
              ElementsAre(ElementsAre(0), ElementsAre(3, 5), ElementsAre(1, 2), ElementsAre(4)));
}

TEST(BatcherTest, DeadlineExpiredWhileQueuedNeverReachesTheExecutor) {
  FakeClock clock;
  FakeExecutor exec;
  exec.HoldFirstBatch();
  Outcome o[4];
  DynamicBatcher batcher(Opts(4, absl::ZeroDuration()), exec.Get(), &clock);
  ReleaseOnExit release_on_exit{exec};
  ASSERT_TRUE(batcher.Submit(MakeTask(0, &o[0])).ok());
  exec.entered.WaitForNotification();
  auto soon = MakeTask(1, &o[1]);
  soon->deadline = clock.Now() + absl::Seconds(1);
  ASSERT_TRUE(batcher.Submit(std::move(soon)).ok());
  auto later = MakeTask(2, &o[2]);
  later->deadline = clock.Now() + absl::Seconds(10);
  ASSERT_TRUE(batcher.Submit(std::move(later)).ok());
  clock.Advance(absl::Seconds(2));
  exec.Release();
  EXPECT_EQ(o[1].code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(o[1].stats.batch_images, 0);
  EXPECT_EQ(Value(o[2]), 200);
  EXPECT_EQ(o[2].stats.queue_time, absl::Seconds(2));  // on the injected clock
  EXPECT_THAT(exec.batches(), ElementsAre(ElementsAre(0), ElementsAre(2)));

  // Already expired: refused at once, `done` never called.
  auto expired = MakeTask(3, &o[3]);
  expired->deadline = clock.Now();
  EXPECT_EQ(batcher.Submit(std::move(expired)).code(), absl::StatusCode::kDeadlineExceeded);
  batcher.Shutdown(kDrainAll);
  EXPECT_EQ(o[3].calls.load(), 0);
  EXPECT_EQ(o[1].calls.load(), 1);
}

TEST(BatcherTest, CancelledTaskFreesItsSlotAndSkipsTheExecutor) {
  FakeExecutor exec;
  exec.HoldFirstBatch();
  Outcome o[5];
  Outcome retry;
  DynamicBatcher batcher(Opts(1, absl::ZeroDuration(), /*max_queue=*/2), exec.Get());
  ReleaseOnExit release_on_exit{exec};
  ASSERT_TRUE(batcher.Submit(MakeTask(0, &o[0])).ok());
  exec.entered.WaitForNotification();
  auto cancel_me = MakeTask(1, &o[1]);
  std::shared_ptr<std::atomic<bool>> cancelled = cancel_me->cancelled;
  ASSERT_TRUE(batcher.Submit(std::move(cancel_me)).ok());
  ASSERT_TRUE(batcher.Submit(MakeTask(2, &o[2])).ok());
  EXPECT_EQ(batcher.Submit(MakeTask(3, &o[3])).code(), absl::StatusCode::kResourceExhausted);

  cancelled->store(true);
  ASSERT_TRUE(batcher.Submit(MakeTask(3, &retry)).ok());  // the cancelled task's slot
  EXPECT_EQ(batcher.queue_depth(), 2);

  // Cancelled before admission: refused at once.
  auto early = MakeTask(4, &o[4]);
  early->cancelled->store(true);
  EXPECT_EQ(batcher.Submit(std::move(early)).code(), absl::StatusCode::kCancelled);

  exec.Release();
  EXPECT_EQ(o[1].code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(Value(o[2]), 200);
  EXPECT_EQ(Value(retry), 300);
  batcher.Shutdown(kDrainAll);
  EXPECT_THAT(exec.batches(), ElementsAre(ElementsAre(0), ElementsAre(2), ElementsAre(3)));
  EXPECT_EQ(o[1].calls.load(), 1);
  EXPECT_EQ(o[3].calls.load(), 0);
  EXPECT_EQ(o[4].calls.load(), 0);
}

TEST(BatcherTest, NotifyCancelledCompletesAWaitingTask) {
  // With an infinite delay nothing else would wake the worker.
  FakeExecutor exec;
  Outcome o;
  DynamicBatcher batcher(Opts(4, absl::InfiniteDuration()), exec.Get());
  auto task = MakeTask(0, &o);
  std::shared_ptr<std::atomic<bool>> cancelled = task->cancelled;
  ASSERT_TRUE(batcher.Submit(std::move(task)).ok());
  cancelled->store(true);
  batcher.NotifyCancelled();
  EXPECT_EQ(o.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(batcher.queue_depth(), 0);
  EXPECT_THAT(exec.batches(), IsEmpty());
}

TEST(BatcherTest, ExecutorErrorFailsTheWholeBatch) {
  FakeExecutor exec;
  exec.FailWith(absl::AbortedError("device lost"));
  Outcome o[3];
  DynamicBatcher batcher(Opts(3, absl::InfiniteDuration()), exec.Get());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(batcher.Submit(MakeTask(i, &o[i])).ok());
  for (Outcome& x : o) {
    EXPECT_EQ(x.code(), absl::StatusCode::kAborted);
    EXPECT_EQ(x.result.status().message(), "device lost");
    EXPECT_EQ(x.stats.batch_images, 3);
  }
}

TEST(BatcherTest, WrongResultCountIsInternal) {
  FakeExecutor exec;
  exec.DropLastResult();
  Outcome o[2];
  DynamicBatcher batcher(Opts(2, absl::InfiniteDuration()), exec.Get());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(batcher.Submit(MakeTask(i, &o[i])).ok());
  for (Outcome& x : o) EXPECT_EQ(x.code(), absl::StatusCode::kInternal);
}

TEST(BatcherTest, ShutdownFlushesQueuedWorkWithinTheDrain) {
  FakeExecutor exec;
  Outcome o[3];
  DynamicBatcher batcher(Opts(4, absl::InfiniteDuration()), exec.Get());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(batcher.Submit(MakeTask(i, &o[i])).ok());
  batcher.Shutdown(absl::InfiniteDuration());
  EXPECT_EQ(Value(o[0]), 0);
  EXPECT_EQ(Value(o[1]), 100);
  EXPECT_EQ(batcher.Submit(MakeTask(2, &o[2])).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(o[2].calls.load(), 0);
  batcher.Shutdown(absl::ZeroDuration());  // idempotent
}

TEST(BatcherTest, ShutdownFailsQueuedWorkAfterTheDrainAndFinishesRunningWork) {
  FakeExecutor exec;
  exec.HoldFirstBatch();
  Outcome o[3];
  DynamicBatcher batcher(Opts(1, absl::ZeroDuration()), exec.Get());
  ReleaseOnExit release_on_exit{exec};
  ASSERT_TRUE(batcher.Submit(MakeTask(0, &o[0])).ok());
  exec.entered.WaitForNotification();
  ASSERT_TRUE(batcher.Submit(MakeTask(1, &o[1])).ok());

  const absl::Duration drain = absl::Milliseconds(20);
  const absl::Time start = absl::Now();
  std::thread shutdown([&] { batcher.Shutdown(drain); });
  EXPECT_EQ(o[1].code(), absl::StatusCode::kUnavailable);  // while batch 0 still runs
  EXPECT_GE(absl::Now() - start, drain - absl::Milliseconds(1));
  EXPECT_EQ(o[0].calls.load(), 0);
  EXPECT_EQ(batcher.Submit(MakeTask(2, &o[2])).code(), absl::StatusCode::kUnavailable);

  exec.Release();
  shutdown.join();  // joined the worker, so batch 0 completed
  EXPECT_EQ(o[0].calls.load(), 1);
  EXPECT_EQ(Value(o[0]), 0);
  EXPECT_EQ(o[2].calls.load(), 0);
  EXPECT_EQ(batcher.in_flight(), 0);
  EXPECT_THAT(exec.batches(), ElementsAre(ElementsAre(0)));
}

TEST(BatcherTest, DestructorFailsQueuedWork) {
  FakeExecutor exec;
  Outcome o[2];
  {
    DynamicBatcher batcher(Opts(4, absl::InfiniteDuration()), exec.Get());
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(batcher.Submit(MakeTask(i, &o[i])).ok());
  }
  for (Outcome& x : o) {
    EXPECT_EQ(x.calls.load(), 1);
    EXPECT_EQ(x.code(), absl::StatusCode::kUnavailable);
  }
}

TEST(BatcherTest, DoneIsCalledExactlyOnceUnderConcurrency) {
  constexpr int kThreads = 4, kPerThread = 200;
  FakeExecutor exec;
  DynamicBatcher::Options options = Opts(4, absl::ZeroDuration(), /*max_queue=*/32);
  options.num_workers = 2;
  std::vector<std::atomic<int>> calls(kThreads * kPerThread);
  std::vector<std::atomic<int>> admitted(kThreads * kPerThread);
  std::atomic<int> ok_results{0}, cancelled_results{0};
  DynamicBatcher batcher(options, exec.Get());

  std::vector<std::thread> submitters;
  for (int t = 0; t < kThreads; ++t) {
    submitters.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < kPerThread; ++i) {
        const int id = t * kPerThread + i;
        auto task = std::make_unique<BatchTask>();
        task->prompts.push_back(Prompt{{id}, {}});
        task->priority = rng() % 2 ? RequestPriority::kStat : RequestPriority::kRoutine;
        task->done = [&, id](absl::StatusOr<std::vector<HostTensor>> r, const BatchStats&) {
          calls[id].fetch_add(1);
          if (r.ok() && r->size() == 1 && (*r)[0].data[0] == id * 100.0f) ok_results.fetch_add(1);
          if (r.status().code() == absl::StatusCode::kCancelled) cancelled_results.fetch_add(1);
        };
        std::shared_ptr<std::atomic<bool>> cancelled = task->cancelled;
        const bool cancel = rng() % 5 == 0;
        absl::Status s = batcher.Submit(std::move(task));
        if (s.ok()) admitted[id] = 1;
        if (cancel) {
          cancelled->store(true);
          batcher.NotifyCancelled();
        }
      }
    });
  }
  for (std::thread& t : submitters) t.join();
  batcher.Shutdown(kDrainAll);

  int num_admitted = 0;
  for (int id = 0; id < kThreads * kPerThread; ++id) {
    ASSERT_EQ(calls[id].load(), admitted[id].load()) << "task " << id;
    num_admitted += admitted[id].load();
  }
  EXPECT_GT(num_admitted, 0);
  EXPECT_EQ(ok_results.load() + cancelled_results.load(), num_admitted);
  EXPECT_EQ(batcher.queue_depth(), 0);
  EXPECT_EQ(batcher.in_flight(), 0);
}

TEST(EngineExecutorTest, MatchesEngineSegment) {
  auto engine = Engine::Create(test_support::TinyModelDir(), EngineOptions{});
  ASSERT_TRUE(engine.ok()) << engine.status();
  test_support::TinyCases cases = test_support::LoadTinyCases();
  ASSERT_GE(cases.images.size(), 2u);
  ASSERT_GE(cases.prompts.size(), 3u);
  auto adapter = (*engine)->LoadAdapter(TestData("clipseg-tiny/adapters/shallow_vlc.safetensors"));
  ASSERT_TRUE(adapter.ok()) << adapter.status();
  auto version = std::make_shared<AdapterVersion>();
  version->name = "polyp";
  version->version = 1;
  version->adapter = *adapter;

  // Task 0: image 0, base model, two prompts. Task 1: image 1, adapter, one.
  auto make = [&](size_t image, std::vector<size_t> prompts,
                  std::shared_ptr<const AdapterVersion> v, Outcome* o) {
    auto task = MakeTask(0, o);
    task->image = cases.images[image];
    task->prompts.clear();
    for (size_t p : prompts) task->prompts.push_back(cases.prompts[p]);
    task->adapter = std::move(v);
    return task;
  };
  std::vector<SegmentQuery> queries = {{0, cases.prompts[0], nullptr},
                                       {0, cases.prompts[2], nullptr},
                                       {1, cases.prompts[1], *adapter}};
  auto want = (*engine)->Segment({cases.images[0], cases.images[1]}, queries);
  ASSERT_TRUE(want.ok()) << want.status();

  // Through the batcher: both tasks form one batch.
  Outcome o[2];
  DynamicBatcher batcher(Opts(2, absl::InfiniteDuration()), MakeEngineExecutor(engine->get()));
  ASSERT_TRUE(batcher.Submit(make(0, {0, 2}, nullptr, &o[0])).ok());
  ASSERT_TRUE(batcher.Submit(make(1, {1}, version, &o[1])).ok());
  for (Outcome& x : o) {
    x.Wait();
    ASSERT_TRUE(x.result.ok()) << x.result.status();
    EXPECT_EQ(x.stats.batch_images, 2);
    EXPECT_EQ(x.stats.batch_rows, 3);
  }
  ASSERT_EQ(o[0].result->size(), 2u);
  ASSERT_EQ(o[1].result->size(), 1u);
  const HostTensor* got[] = {&(*o[0].result)[0], &(*o[0].result)[1], &(*o[1].result)[0]};
  for (size_t q = 0; q < 3; ++q) {
    EXPECT_EQ(got[q]->shape, (*want)[q].shape) << "query " << q;
    auto d = test_support::Compare(*got[q], (*want)[q]);
    EXPECT_LE(d.max_abs, 1e-5) << "query " << q;
  }

  // The engine's errors reach the executor's caller.
  BatchTask bad;
  bad.image = HostTensor{{3, 5, 5}, std::vector<float>(75, 0.f)};
  bad.prompts.push_back(cases.prompts[0]);
  auto err = MakeEngineExecutor(engine->get())({&bad});
  EXPECT_EQ(err.status().code(), absl::StatusCode::kInvalidArgument) << err.status();
}

}  // namespace
}  // namespace vlsm
