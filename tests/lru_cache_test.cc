// LruCache: capacity, recency order, overwrite, counters, capacity 0, and
// concurrent use.
#include "model/lru_cache.h"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vlsm {
namespace {

using ::testing::Optional;

TEST(LruCacheTest, RespectsCapacityAndEvictsOldest) {
  LruCache<int, std::string> cache(3);
  EXPECT_EQ(cache.capacity(), 3u);
  EXPECT_EQ(cache.size(), 0u);
  for (int k = 0; k < 5; ++k) {
    cache.Put(k, "v" + std::to_string(k));
    EXPECT_EQ(cache.size(), static_cast<size_t>(std::min(k + 1, 3)));
  }
  EXPECT_EQ(cache.Get(0), std::nullopt);
  EXPECT_EQ(cache.Get(1), std::nullopt);
  EXPECT_THAT(cache.Get(2), Optional(std::string("v2")));
  EXPECT_THAT(cache.Get(3), Optional(std::string("v3")));
  EXPECT_THAT(cache.Get(4), Optional(std::string("v4")));
  EXPECT_EQ(cache.size(), 3u);
}

TEST(LruCacheTest, GetRefreshesRecency) {
  LruCache<int, int> cache(3);
  cache.Put(1, 10);
  cache.Put(2, 20);
  cache.Put(3, 30);
  EXPECT_THAT(cache.Get(1), Optional(10));  // order now 1, 3, 2 (most recent first)
  cache.Put(4, 40);                          // evicts 2
  EXPECT_EQ(cache.Get(2), std::nullopt);
  EXPECT_THAT(cache.Get(1), Optional(10));
  EXPECT_THAT(cache.Get(3), Optional(30));  // order now 3, 1, 4
  EXPECT_THAT(cache.Get(4), Optional(40));  // order now 4, 3, 1
  cache.Put(5, 50);                          // evicts 1
  EXPECT_EQ(cache.Get(1), std::nullopt);
  EXPECT_THAT(cache.Get(3), Optional(30));
  EXPECT_THAT(cache.Get(4), Optional(40));
  EXPECT_THAT(cache.Get(5), Optional(50));
  EXPECT_EQ(cache.size(), 3u);
}

TEST(LruCacheTest, MissDoesNotChangeOrder) {
  LruCache<int, int> cache(2);
  cache.Put(1, 10);
  cache.Put(2, 20);
  EXPECT_EQ(cache.Get(7), std::nullopt);
  cache.Put(3, 30);  // evicts 1, the least recently used
  EXPECT_EQ(cache.Get(1), std::nullopt);
  EXPECT_THAT(cache.Get(2), Optional(20));
  EXPECT_THAT(cache.Get(3), Optional(30));
}

TEST(LruCacheTest, PutOverwritesAndRefreshes) {
  LruCache<std::string, int> cache(2);
  cache.Put("a", 1);
  cache.Put("a", 2);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_THAT(cache.Get("a"), Optional(2));
  cache.Put("b", 3);
  cache.Put("a", 4);  // overwrite makes "a" the most recent
  cache.Put("c", 5);  // so "b" goes
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Get("b"), std::nullopt);
  EXPECT_THAT(cache.Get("a"), Optional(4));
  EXPECT_THAT(cache.Get("c"), Optional(5));
}

TEST(LruCacheTest, CountsHitsAndMisses) {
  LruCache<int, int> cache(2);
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_EQ(cache.misses(), 0u);
  EXPECT_EQ(cache.Get(1), std::nullopt);  // miss 1
  cache.Put(1, 1);
  EXPECT_THAT(cache.Get(1), Optional(1));  // hit 1
  EXPECT_THAT(cache.Get(1), Optional(1));  // hit 2
  cache.Put(2, 2);
  cache.Put(3, 3);                         // evicts 1
  EXPECT_EQ(cache.Get(1), std::nullopt);  // miss 2
  EXPECT_THAT(cache.Get(3), Optional(3));  // hit 3
  EXPECT_EQ(cache.Get(9), std::nullopt);  // miss 3
  EXPECT_EQ(cache.hits(), 3u);
  EXPECT_EQ(cache.misses(), 3u);
  // Put never counts.
  cache.Put(4, 4);
  EXPECT_EQ(cache.hits(), 3u);
  EXPECT_EQ(cache.misses(), 3u);
}

TEST(LruCacheTest, CapacityZeroStoresNothing) {
  LruCache<int, int> cache(0);
  cache.Put(1, 1);
  cache.Put(2, 2);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Get(1), std::nullopt);
  EXPECT_EQ(cache.Get(2), std::nullopt);
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_EQ(cache.misses(), 2u);
}

TEST(LruCacheTest, CapacityOneKeepsTheLatest) {
  LruCache<int, int> cache(1);
  cache.Put(1, 1);
  cache.Put(2, 2);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Get(1), std::nullopt);
  EXPECT_THAT(cache.Get(2), Optional(2));
}

// Four threads Put and Get overlapping keys. Thread t at step i puts
// key (t + i) % kKeys with value t * kSteps + i, so every value names the
// (thread, step) that wrote it, and that pair determines the key.
TEST(LruCacheTest, ConcurrentPutGet) {
  constexpr int kThreads = 4, kSteps = 20000, kKeys = 16;
  constexpr size_t kCapacity = 8;
  LruCache<int, int64_t> cache(kCapacity);
  std::atomic<int> ready{0};
  std::atomic<int64_t> bad_values{0}, hits{0}, misses{0}, oversize{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) {
      }
      for (int i = 0; i < kSteps; ++i) {
        cache.Put((t + i) % kKeys, static_cast<int64_t>(t) * kSteps + i);
        const int key = (t * 5 + i * 3) % kKeys;  // a different walk over the same keys
        std::optional<int64_t> v = cache.Get(key);
        if (v.has_value()) {
          hits.fetch_add(1);
          const int64_t writer = *v / kSteps, step = *v % kSteps;
          if (*v < 0 || writer >= kThreads || (writer + step) % kKeys != key) bad_values.fetch_add(1);
        } else {
          misses.fetch_add(1);
        }
        if (i % 64 == 0 && cache.size() > kCapacity) oversize.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad_values.load(), 0);
  EXPECT_EQ(oversize.load(), 0);
  EXPECT_EQ(cache.size(), kCapacity);  // 16 keys were written, only 8 fit
  EXPECT_EQ(static_cast<int64_t>(cache.hits()), hits.load());
  EXPECT_EQ(static_cast<int64_t>(cache.misses()), misses.load());
  EXPECT_EQ(hits.load() + misses.load(), static_cast<int64_t>(kThreads) * kSteps);
  // Every surviving entry holds a value that was written for its key.
  int present = 0;
  for (int key = 0; key < kKeys; ++key) {
    if (auto v = cache.Get(key)) {
      ++present;
      EXPECT_EQ((*v / kSteps + *v % kSteps) % kKeys, key);
    }
  }
  EXPECT_EQ(present, static_cast<int>(kCapacity));
}

}  // namespace
}  // namespace vlsm
