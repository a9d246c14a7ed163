#pragma once
// Providers: how a Context hands a resource to a node call. Each kind decides whether a
// batch's calls on one thread can share one instance (per_thread, shared, shared_concurrent,
// value: resolved once per batch) or each call must acquire its own (pooled: a lease;
// per_call: a fresh instance). A shared resource also makes each call hold its lock.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include <oneapi/tbb/enumerable_thread_specific.h>

#include <contexts/detail/waits.hpp>
#include <contexts/object_pool.hpp>
#include <contexts/resource_stats.hpp>

namespace aetherflow::detail {

// What one call holds of a resource while it runs: a lease, or its own instance.
template <class T>
struct Access {
  T* object = nullptr;
  Lease<T> lease;
  std::unique_ptr<T> own;
};

// The mutex a shared resource's calls take turns on, with what it saw.
struct CallLock {
  std::mutex mutex;
  std::atomic<std::uint64_t> locks{0}, waits{0}, wait_ns{0};
};

class ProviderBase {
 public:
  ProviderBase(const std::type_info& type, std::string name, ProviderKind kind)
      : type_(type), name_(std::move(name)), kind_(kind) {}
  virtual ~ProviderBase() = default;
  ProviderBase(const ProviderBase&) = delete;
  ProviderBase& operator=(const ProviderBase&) = delete;

  const std::type_info& type() const noexcept { return type_; }
  const std::string& name() const noexcept { return name_; }
  ProviderKind kind() const noexcept { return kind_; }
  virtual ResourceStats stats() const = 0;
  // The lock a call must hold while it uses the resource, or null (see Shared).
  virtual CallLock* call_lock() noexcept { return nullptr; }

 protected:
  ResourceStats base_stats() const;

 private:
  const std::type_info& type_;
  std::string name_;
  ProviderKind kind_;
};

template <class T>
class Provider : public ProviderBase {
 public:
  using ProviderBase::ProviderBase;
  // The instance serving a whole batch on the calling thread; null when each call acquires.
  virtual T* for_batch() { return nullptr; }
  // One call's access, for providers whose for_batch() is null.
  virtual Access<T> for_call(Waits&) { return {}; }
};

template <class T>
using Factory = std::function<T()>;

// `new T(make())` rather than make_unique: the factory's prvalue initialises the object in
// place, so resources need not be movable (a class holding a mutex, say).
template <class T>
std::unique_ptr<T> make_object(const Factory<T>& make) {
  return std::unique_ptr<T>(new T(make()));
}

template <class T>
class PerThread final : public Provider<T> {
 public:
  PerThread(std::string name, Factory<T> make)
      : Provider<T>(typeid(T), std::move(name), ProviderKind::per_thread),
        instances_([make = std::move(make)] { return make(); }) {}
  T* for_batch() override { return &instances_.local(); }
  oneapi::tbb::enumerable_thread_specific<T>& instances() noexcept { return instances_; }
  ResourceStats stats() const override {
    auto s = this->base_stats();
    s.instances = instances_.size();
    return s;
  }

 private:
  oneapi::tbb::enumerable_thread_specific<T> instances_;
};

// One instance, created when bound; the calls of every node using it take turns. The lock is
// not taken here: a call takes all the locks of its shared resources together, in one global
// order (CallLocks), so two nodes naming two shared resources in opposite orders cannot
// deadlock.
template <class T>
class Shared final : public Provider<T> {
 public:
  Shared(std::string name, const Factory<T>& make)
      : Provider<T>(typeid(T), std::move(name), ProviderKind::shared), object_(make_object(make)) {}
  T* for_batch() override { return object_.get(); }
  CallLock* call_lock() noexcept override { return &lock_; }
  T& object() noexcept { return *object_; }
  ResourceStats stats() const override {
    auto s = this->base_stats();
    s.instances = 1;
    s.acquisitions = lock_.locks.load();
    s.waits = lock_.waits.load();
    s.wait_time = std::chrono::nanoseconds(lock_.wait_ns.load());
    return s;
  }

 private:
  std::unique_ptr<T> object_;
  CallLock lock_;
};

// One instance, created when bound, used by every call at once: T must be thread-safe.
template <class T>
class SharedConcurrent final : public Provider<T> {
 public:
  SharedConcurrent(std::string name, const Factory<T>& make)
      : Provider<T>(typeid(T), std::move(name), ProviderKind::shared_concurrent),
        object_(make_object(make)) {}
  T* for_batch() override { return object_.get(); }
  T& object() noexcept { return *object_; }
  ResourceStats stats() const override {
    auto s = this->base_stats();
    s.instances = 1;
    return s;
  }

 private:
  std::unique_ptr<T> object_;
};

// A given object, read-only for the nodes (validation refuses a non-const reference to it).
template <class T>
class Value final : public Provider<T> {
 public:
  Value(std::string name, T value)
      : Provider<T>(typeid(T), std::move(name), ProviderKind::value), value_(std::move(value)) {}
  T* for_batch() override { return &value_; }
  T& object() noexcept { return value_; }
  ResourceStats stats() const override {
    auto s = this->base_stats();
    s.instances = 1;
    return s;
  }

 private:
  T value_;
};

// Each call leases an instance from an ObjectPool and returns it when the call ends.
template <class T>
class Pooled final : public Provider<T> {
 public:
  Pooled(std::string name, std::size_t capacity, Factory<T> make, std::function<void(T&)> reset,
         PoolOptions options)
      : Provider<T>(typeid(T), std::move(name), ProviderKind::pooled),
        pool_(
            capacity, [make = std::move(make)] { return make_object(make); }, std::move(reset),
            options) {}
  Access<T> for_call(Waits& waits) override {
    std::chrono::nanoseconds waited{0};
    Access<T> access;
    access.lease = pool_.acquire(&waited);
    access.object = access.lease.operator->();
    if (waited.count() > 0) waits.add(waited);
    return access;
  }
  ObjectPool<T>& pool() noexcept { return pool_; }
  ResourceStats stats() const override {
    auto s = this->base_stats();
    const PoolStats p = pool_.stats();
    s.instances = p.created - p.discarded;
    s.acquisitions = p.created + p.reused;
    s.waits = p.waits;
    s.wait_time = p.wait_time;
    return s;
  }

 private:
  ObjectPool<T> pool_;
};

// A fresh instance for each call, destroyed when the call ends.
template <class T>
class PerCall final : public Provider<T> {
 public:
  PerCall(std::string name, Factory<T> make)
      : Provider<T>(typeid(T), std::move(name), ProviderKind::per_call), make_(std::move(make)) {}
  Access<T> for_call(Waits&) override {
    Access<T> access;
    access.own = make_object(make_);
    access.object = access.own.get();
    created_.fetch_add(1, std::memory_order_relaxed);
    return access;
  }
  ResourceStats stats() const override {
    auto s = this->base_stats();
    s.acquisitions = created_.load();
    return s;
  }

 private:
  Factory<T> make_;
  std::atomic<std::uint64_t> created_{0};
};

// The locks of one node's shared resources, taken together for each call, always in address
// order: any two calls agree on the order, so they cannot deadlock on each other.
class CallLocks {
 public:
  explicit CallLocks(std::span<ProviderBase* const> providers) {
    for (auto* p : providers)
      if (auto* lock = p->call_lock()) locks_.push_back(lock);
    std::sort(locks_.begin(), locks_.end());
    locks_.erase(std::unique(locks_.begin(), locks_.end()), locks_.end());
  }

  // Holds every lock until destroyed; a call that had to wait adds to `waits`.
  class Held {
   public:
    Held(const std::vector<CallLock*>& locks, Waits& waits) : locks_(locks) {
      for (CallLock* lock : locks_) {
        if (!lock->mutex.try_lock()) {
          const auto start = std::chrono::steady_clock::now();
          lock->mutex.lock();
          const auto waited = std::chrono::steady_clock::now() - start;
          waits.add(waited);
          lock->waits.fetch_add(1, std::memory_order_relaxed);
          lock->wait_ns.fetch_add(static_cast<std::uint64_t>(waited.count()),
                                  std::memory_order_relaxed);
        }
        lock->locks.fetch_add(1, std::memory_order_relaxed);
      }
    }
    ~Held() {
      for (auto it = locks_.rbegin(); it != locks_.rend(); ++it) (*it)->mutex.unlock();
    }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;

   private:
    const std::vector<CallLock*>& locks_;
  };

  const std::vector<CallLock*>& locks() const noexcept { return locks_; }
  bool empty() const noexcept { return locks_.empty(); }

 private:
  std::vector<CallLock*> locks_;
};

}  // namespace aetherflow::detail
