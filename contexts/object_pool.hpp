#pragma once
// A bounded pool of reusable objects, leased with RAII:
//
//   aetherflow::ObjectPool<Connection> pool(4, [] { return Connection("db"); },
//                                           {.reset = [](Connection& c) { c.rollback(); }});
//   {
//     auto conn = pool.acquire();   // waits while all 4 are leased (or fails: see PoolOptions)
//     conn->query("...");
//   }                               // back in the pool, reset
//
// At most `capacity` objects ever exist. They are created on demand, and kept for reuse until
// the pool is destroyed.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <flow/errors.hpp>

namespace aetherflow {

// Thrown by acquire() when the pool is empty and PoolOptions::when_empty is fail (or the wait
// timed out).
class PoolExhausted : public Error {
 public:
  using Error::Error;
};

struct PoolOptions {
  enum class WhenEmpty { wait, fail };
  // wait: block until a lease comes back (up to `timeout`, if set); fail: throw PoolExhausted.
  WhenEmpty when_empty = WhenEmpty::wait;
  std::chrono::nanoseconds timeout = std::chrono::nanoseconds::zero();  // zero: no limit
};

struct PoolStats {
  std::uint64_t created = 0;    // objects made by the factory
  std::uint64_t reused = 0;     // leases served by an object made earlier
  std::uint64_t discarded = 0;  // objects dropped through Lease::discard()
  std::uint64_t waits = 0;      // acquisitions that had to wait for a lease to come back
  std::chrono::nanoseconds wait_time{0};
  std::size_t in_use = 0;       // leased now
  std::size_t peak_in_use = 0;  // most leased at once
};

template <class T>
class ObjectPool;

// An object on loan from an ObjectPool; returned (and reset) when the lease ends.
template <class T>
class Lease {
 public:
  Lease() = default;
  Lease(Lease&& o) noexcept
      : pool_(std::exchange(o.pool_, nullptr)), object_(std::move(o.object_)) {}
  Lease& operator=(Lease&& o) noexcept {
    if (this != &o) {
      give_back();
      pool_ = std::exchange(o.pool_, nullptr);
      object_ = std::move(o.object_);
    }
    return *this;
  }
  ~Lease() { give_back(); }

  T& operator*() const noexcept { return *object_; }
  T* operator->() const noexcept { return object_.get(); }
  T& get() const noexcept { return *object_; }
  explicit operator bool() const noexcept { return object_ != nullptr; }

  // Ends the lease without returning the object: it is destroyed (a broken connection, say),
  // and the pool may create a new one in its place.
  void discard() {
    if (pool_) pool_->drop(std::move(object_));
    pool_ = nullptr;
  }

 private:
  friend class ObjectPool<T>;
  Lease(ObjectPool<T>* pool, std::unique_ptr<T> object) : pool_(pool), object_(std::move(object)) {}
  void give_back() {
    if (pool_) pool_->give_back(std::move(object_));
    pool_ = nullptr;
  }

  ObjectPool<T>* pool_ = nullptr;
  std::unique_ptr<T> object_;
};

template <class T>
class ObjectPool {
 public:
  using Factory = std::function<std::unique_ptr<T>()>;
  using Reset = std::function<void(T&)>;

  // `reset` runs on every object handed back, before another lease can see it.
  ObjectPool(std::size_t capacity, Factory factory, Reset reset = {}, PoolOptions options = {})
      : capacity_(capacity),
        factory_(std::move(factory)),
        reset_(std::move(reset)),
        options_(options) {
    if (capacity_ == 0) throw Error("ObjectPool: capacity must be at least 1");
  }
  explicit ObjectPool(std::size_t capacity)
      : ObjectPool(capacity, [] { return std::make_unique<T>(); }) {}

  ObjectPool(const ObjectPool&) = delete;
  ObjectPool& operator=(const ObjectPool&) = delete;
  ~ObjectPool() = default;  // leases must have ended: they point into the pool

  // A lease; `waited`, when given, receives how long this call waited for one.
  Lease<T> acquire(std::chrono::nanoseconds* waited = nullptr) {
    std::unique_lock lock(mutex_);
    if (idle_.empty() && live_ == capacity_) {
      const auto waited_here = wait_for_return(lock);
      if (waited) *waited = waited_here;
    }
    std::unique_ptr<T> object;
    if (!idle_.empty()) {
      object = std::move(idle_.back());
      idle_.pop_back();
      ++stats_.reused;
    } else {
      ++live_;  // reserved before unlocking, so the capacity holds while the factory runs
      lock.unlock();
      try {
        object = factory_();
      } catch (...) {
        lock.lock();
        --live_;
        returned_.notify_one();
        throw;
      }
      lock.lock();
      ++stats_.created;
    }
    stats_.in_use += 1;
    if (stats_.in_use > stats_.peak_in_use) stats_.peak_in_use = stats_.in_use;
    return Lease<T>(this, std::move(object));
  }

  std::size_t capacity() const noexcept { return capacity_; }
  PoolStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  friend class Lease<T>;

  // Waits until an object is idle or may be created; returns how long that took.
  std::chrono::nanoseconds wait_for_return(std::unique_lock<std::mutex>& lock) {
    auto available = [this] { return !idle_.empty() || live_ < capacity_; };
    if (options_.when_empty == PoolOptions::WhenEmpty::fail)
      throw PoolExhausted("ObjectPool of " + std::to_string(capacity_) + " is empty");
    const auto start = std::chrono::steady_clock::now();
    ++stats_.waits;
    const bool ok = options_.timeout == std::chrono::nanoseconds::zero()
                        ? (returned_.wait(lock, available), true)
                        : returned_.wait_for(lock, options_.timeout, available);
    const auto waited = std::chrono::steady_clock::now() - start;
    stats_.wait_time += waited;
    if (!ok)
      throw PoolExhausted("ObjectPool of " + std::to_string(capacity_) +
                          " stayed empty for the whole timeout");
    return waited;
  }

  void give_back(std::unique_ptr<T> object) {
    if (reset_) {
      try {
        reset_(*object);
      } catch (...) {
        drop(std::move(object));  // an object that failed to reset is not handed out again
        return;
      }
    }
    {
      std::lock_guard lock(mutex_);
      idle_.push_back(std::move(object));
      stats_.in_use -= 1;
    }
    returned_.notify_one();
  }

  void drop(std::unique_ptr<T> object) {
    object.reset();
    {
      std::lock_guard lock(mutex_);
      --live_;
      stats_.in_use -= 1;
      ++stats_.discarded;
    }
    returned_.notify_one();
  }

  const std::size_t capacity_;
  Factory factory_;
  Reset reset_;
  PoolOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<T>> idle_;
  std::size_t live_ = 0;  // objects that exist: idle or leased
  PoolStats stats_;
};

}  // namespace aetherflow
