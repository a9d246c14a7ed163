#pragma once
// Memoising a pure node by its input (docs/nodes.md):
//
//   auto lookup = aetherflow::cache(geo_lookup, {.capacity = 100'000, .ttl = 10min});
//   flow.node("geo", lookup);                  // a transform, like geo_lookup itself
//   ... after a run: lookup.stats().hits, .misses, .evictions, .expired (since it was made);
//   the run report and the profile show what each run added (counters of 'geo': hits ...).
//
// Least-recently-used entries are evicted beyond `capacity`; an entry older than `ttl` is
// computed again. Safe under concurrency: lookups and inserts take a lock, the function runs
// outside it, so two calls that miss the same key at once may both compute it (the function is
// pure, so both results are the same). Copies share one cache (the flow stores a copy).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <flow/callable_traits.hpp>
#include <flow/report.hpp>

namespace aetherflow {

struct CacheOptions {
  std::size_t capacity = 10'000;
  std::chrono::nanoseconds ttl = std::chrono::nanoseconds::max();  // max: never expires
  // The clock the ttl is measured on; tests pass a simulated one.
  std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now;
};

struct CacheStats {
  std::uint64_t hits = 0, misses = 0;
  std::uint64_t evictions = 0;  // entries dropped for capacity
  std::uint64_t expired = 0;    // entries found older than the ttl (their lookups are misses)
  double hit_rate() const {
    const auto calls = hits + misses;
    return calls ? static_cast<double>(hits) / static_cast<double>(calls) : 0.0;
  }
};

// The memo of a function from Key to Value: LRU order, time-to-live, statistics.
template <class Key, class Value>
class LruCache {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LruCache(CacheOptions options) : options_(std::move(options)) {
    if (options_.capacity == 0) throw std::invalid_argument("cache: capacity must be at least 1");
  }

  std::optional<Value> find(const Key& key) {
    std::lock_guard lock(mutex_);
    const auto it = index_.find(key);
    if (it == index_.end()) {
      ++stats_.misses;
      return std::nullopt;
    }
    if (options_.now() - it->second->stored >= options_.ttl) {
      ++stats_.expired;
      ++stats_.misses;
      entries_.erase(it->second);
      index_.erase(it);
      return std::nullopt;
    }
    entries_.splice(entries_.begin(), entries_, it->second);  // now the most recently used
    ++stats_.hits;
    return it->second->value;
  }

  void store(const Key& key, const Value& value) {
    std::lock_guard lock(mutex_);
    if (const auto it = index_.find(key); it != index_.end()) {  // computed twice at once
      entries_.erase(it->second);
      index_.erase(it);
    }
    entries_.push_front({key, value, options_.now()});
    index_.emplace(key, entries_.begin());
    if (entries_.size() > options_.capacity) {
      index_.erase(entries_.back().key);
      entries_.pop_back();
      ++stats_.evictions;
    }
  }

  CacheStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  struct Entry {
    Key key;
    Value value;
    Clock::time_point stored;
  };
  CacheOptions options_;
  mutable std::mutex mutex_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<Key, typename std::list<Entry>::iterator> index_;
  CacheStats stats_;
};

// A function of one argument, memoised: a node like the function itself.
template <class In, class Out, class F>
class Cached {
 public:
  Cached(F fn, CacheOptions options)
      : fn_(std::move(fn)), cache_(std::make_shared<LruCache<In, Out>>(std::move(options))) {}

  Out operator()(const In& in) const {
    if (auto hit = cache_->find(in)) return std::move(*hit);
    Out out = fn_(in);
    cache_->store(in, out);
    return out;
  }

  CacheStats stats() const { return cache_->stats(); }
  // For the run report and the profile: how much each count grew during a run.
  std::vector<NodeCounter> counters() const {
    const CacheStats s = stats();
    return {
        {"hits", s.hits}, {"misses", s.misses}, {"evictions", s.evictions}, {"expired", s.expired}};
  }
  std::size_t size() const { return cache_->size(); }

 private:
  F fn_;
  std::shared_ptr<LruCache<In, Out>> cache_;
};

// Memoises `fn`, a pure function of a hashable input type In (named when fn is generic).
template <class In, class F>
auto cache(F fn, CacheOptions options = {}) {
  using Out = std::decay_t<std::invoke_result_t<const F&, const In&>>;
  return Cached<In, Out, F>(std::move(fn), std::move(options));
}

// The same, with In read from the one parameter of fn: a plain function, a lambda or a
// function object (not generic: `cache<In>(fn)` names In for those).
template <detail::ReadableSignature F>
auto cache(F fn, CacheOptions options = {}) {
  using In = std::decay_t<std::tuple_element_t<0, typename detail::callable_args<F>::args>>;
  return cache<In>(std::move(fn), std::move(options));
}

}  // namespace aetherflow
