// A bounded, thread-safe least-recently-used map (conditional-embedding
// cache of the engine).
// Threading: every method takes an internal mutex for O(1) work; values are
// copied out, so V should be cheap to copy (e.g. a refcounted tensor).
#ifndef VLSM_MODEL_LRU_CACHE_H_
#define VLSM_MODEL_LRU_CACHE_H_

#include <cstddef>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

#include "absl/synchronization/mutex.h"

namespace vlsm {

template <typename K, typename V, typename Hash = std::hash<K>>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}

  std::optional<V> Get(const K& key) {
    absl::MutexLock lock(&mu_);
    auto it = index_.find(key);
    if (it == index_.end()) {
      ++misses_;
      return std::nullopt;
    }
    ++hits_;
    entries_.splice(entries_.begin(), entries_, it->second);
    return it->second->second;
  }

  void Put(const K& key, V value) {
    if (capacity_ == 0) return;
    absl::MutexLock lock(&mu_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      it->second->second = std::move(value);
      entries_.splice(entries_.begin(), entries_, it->second);
      return;
    }
    entries_.emplace_front(key, std::move(value));
    index_[key] = entries_.begin();
    if (entries_.size() > capacity_) {
      index_.erase(entries_.back().first);
      entries_.pop_back();
    }
  }

  size_t size() const {
    absl::MutexLock lock(&mu_);
    return entries_.size();
  }
  size_t capacity() const { return capacity_; }
  size_t hits() const {
    absl::MutexLock lock(&mu_);
    return hits_;
  }
  size_t misses() const {
    absl::MutexLock lock(&mu_);
    return misses_;
  }

 private:
  using Entry = std::pair<K, V>;
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::list<Entry> entries_;  // most recent first
  std::unordered_map<K, typename std::list<Entry>::iterator, Hash> index_;
  size_t hits_ = 0, misses_ = 0;
};

}  // namespace vlsm

#endif  // VLSM_MODEL_LRU_CACHE_H_
