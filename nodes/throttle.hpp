#pragma once
// Rate limiting, for calling a rate-limited service (docs/nodes.md):
//
//   flow.node("limit", aetherflow::throttle<Request>(50.0)) >> call_service;   // 50 items/s
//
// A token bucket: items pass at `per_second` on average, up to `burst` at once after a quiet
// spell. A call whose item may not pass yet sleeps until its slot. Each call reserves its slot
// under a lock and sleeps outside it, so concurrent calls wait side by side and the rate holds
// whatever the node's concurrency. The sleeping call holds its worker thread.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace aetherflow {

// When a throttle's items may pass: a schedule of slots shared by the copies of one throttle.
class RateSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  // `now` and `sleep_until` default to the steady clock and std::this_thread; tests pass
  // their own.
  RateSchedule(
      double per_second, std::size_t burst, std::function<Clock::time_point()> now = Clock::now,
      std::function<void(Clock::time_point)> sleep_until =
          [](Clock::time_point t) { std::this_thread::sleep_until(t); })
      : interval_(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(1.0 / per_second))),
        burst_(burst),
        now_(std::move(now)),
        sleep_until_(std::move(sleep_until)) {
    if (!(per_second > 0) || burst == 0)
      throw std::invalid_argument("throttle: the rate must be positive and the burst at least 1");
  }

  // Waits until one more item may pass.
  void acquire() {
    Clock::time_point slot;
    {
      std::lock_guard lock(mutex_);
      const Clock::time_point now = now_();
      // Unused capacity accumulates up to `burst` items: the earliest slot is burst - 1
      // intervals in the past.
      const Clock::time_point earliest = now - interval_ * static_cast<long>(burst_ - 1);
      slot = std::max(next_, earliest);
      next_ = slot + interval_;
      if (slot <= now) return;
    }
    sleep_until_(slot);
  }

 private:
  const Clock::duration interval_;
  const std::size_t burst_;
  std::function<Clock::time_point()> now_;
  std::function<void(Clock::time_point)> sleep_until_;
  std::mutex mutex_;
  Clock::time_point next_{};  // the next free slot
};

// A node passing items of type T on at most `per_second` per second (bursts of `burst`).
template <class T>
auto throttle(double per_second, std::size_t burst = 1) {
  auto schedule = std::make_shared<RateSchedule>(per_second, burst);
  return [schedule](T item) {
    schedule->acquire();
    return item;
  };
}

}  // namespace aetherflow
