#pragma once
// Objects of one run kept for reuse instead of freed: the batches and in-flight tokens a run
// makes for every source batch. A run has a bounded number of them alive at once (its
// back-pressure), so once it has made that many it allocates no more: a list only grows while
// the run warms up, and gives everything back to the heap when it is destroyed.

#include <mutex>
#include <vector>

namespace aetherflow::detail {

// The objects, for a caller that does its own locking.
template <class T>
class Shelf {
 public:
  Shelf() = default;
  Shelf(const Shelf&) = delete;
  Shelf& operator=(const Shelf&) = delete;
  ~Shelf() {
    for (T* object : objects_) delete object;
  }

  // An object put back earlier, or null if there is none.
  T* take() noexcept {
    if (objects_.empty()) return nullptr;
    T* object = objects_.back();
    objects_.pop_back();
    return object;
  }
  // Keeps `object` until take() hands it out again; frees it if the shelf cannot grow.
  void put(T* object) noexcept {
    try {
      objects_.push_back(object);
    } catch (...) {
      delete object;
    }
  }

 private:
  std::vector<T*> objects_;
};

// The same, for objects taken on one thread and given back on another.
template <class T>
class FreeList {
 public:
  FreeList() = default;
  FreeList(const FreeList&) = delete;
  FreeList& operator=(const FreeList&) = delete;
  // The lock orders the objects' deletion after the last put(), made on a worker that
  // oneTBB's end of the run ordered before this, out of ThreadSanitizer's sight (tsan.hpp).
  ~FreeList() { std::lock_guard lock(mutex_); }

  T* take() noexcept {
    std::lock_guard lock(mutex_);
    return shelf_.take();
  }
  void put(T* object) noexcept {
    std::lock_guard lock(mutex_);
    shelf_.put(object);
  }

 private:
  std::mutex mutex_;
  Shelf<T> shelf_;
};

}  // namespace aetherflow::detail
