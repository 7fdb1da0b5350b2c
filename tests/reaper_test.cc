// The Reaper: managed objects are destroyed on its thread whichever thread
// drops the last reference, in order; after it is gone, inline.
#include "server/reaper.h"

#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace vlsm {
namespace {

// Records the thread its destructor ran on.
struct Probe {
  explicit Probe(std::thread::id* destroyed_on) : destroyed_on(destroyed_on) {}
  ~Probe() { *destroyed_on = std::this_thread::get_id(); }
  std::thread::id* destroyed_on;
};

TEST(ReaperTest, TheLastReleaseHandsTheObjectToTheReaperThread) {
  Reaper reaper;
  std::thread::id destroyed_on;
  std::shared_ptr<Probe> probe = reaper.Manage(std::make_unique<Probe>(&destroyed_on));
  absl::Notification gate;
  reaper.Post([&] { gate.WaitForNotification(); });  // holds the reaper
  std::weak_ptr<Probe> weak = probe;
  probe.reset();                               // the last reference, on this thread
  EXPECT_EQ(destroyed_on, std::thread::id());  // not destroyed here
  gate.Notify();
  reaper.Flush();
  EXPECT_NE(destroyed_on, std::thread::id());
  EXPECT_NE(destroyed_on, std::this_thread::get_id());
}

TEST(ReaperTest, ASharedObjectIsReleasedOnTheReaperThreadToo) {
  Reaper reaper;
  std::thread::id destroyed_on;
  auto original = std::make_shared<Probe>(&destroyed_on);
  std::weak_ptr<Probe> weak = original;
  std::shared_ptr<Probe> managed = reaper.Manage(std::move(original));
  std::shared_ptr<Probe> copy = managed;  // e.g. a batch holding it
  absl::Notification gate;
  reaper.Post([&] { gate.WaitForNotification(); });
  managed.reset();
  copy.reset();
  EXPECT_FALSE(weak.expired());  // the reaper still holds it
  gate.Notify();
  reaper.Flush();
  EXPECT_TRUE(weak.expired());
  EXPECT_NE(destroyed_on, std::this_thread::get_id());
}

TEST(ReaperTest, PostedWorkRunsInOrderAndAllOfItBeforeDestruction) {
  std::vector<int> order;
  {
    Reaper reaper;
    for (int i = 0; i < 100; ++i) reaper.Post([&order, i] { order.push_back(i); });
  }  // the destructor runs what is queued
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(ReaperTest, AfterTheReaperIsGoneReleaseIsInline) {
  std::thread::id destroyed_on;
  std::shared_ptr<Probe> probe;
  {
    Reaper reaper;
    probe = reaper.Manage(std::make_unique<Probe>(&destroyed_on));
  }
  probe.reset();
  EXPECT_EQ(destroyed_on, std::this_thread::get_id());
}

TEST(ReaperTest, ManyThreadsReleasing) {
  Reaper reaper;
  std::vector<std::thread::id> destroyed(64);
  std::vector<std::shared_ptr<Probe>> probes;
  for (auto& id : destroyed) probes.push_back(reaper.Manage(std::make_unique<Probe>(&id)));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < probes.size(); i += 4) probes[i].reset();
    });
  }
  for (auto& t : threads) t.join();
  reaper.Flush();
  EXPECT_EQ(reaper.completed(), 64u);
  for (const auto& id : destroyed) {
    EXPECT_NE(id, std::thread::id());
    EXPECT_NE(id, std::this_thread::get_id());
  }
}

}  // namespace
}  // namespace vlsm
