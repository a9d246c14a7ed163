#pragma once
// A stand-in for a slow service, for testing and measuring async nodes (flow/async.hpp)
// without one: each request's reply comes after a delay, from the service's own threads, as
// a real client library's callbacks would.
//
//   aetherflow::testing::DelayedService service(std::chrono::milliseconds(5));
//   flow.node("lookup", aetherflow::async([&](int x, aetherflow::Completion<int> done) {
//     service.call([x, done = std::move(done)]() mutable { done.set_value(x * 2); });
//   }));
//
// Requests are served in the order they fall due; `threads` run the replies. The destructor
// answers what is still pending at once, as a service shutting down fails its calls, so that
// every Completion given to it is used or destroyed before it returns. It does not depend on
// any test framework. See docs/testing.md.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace aetherflow::testing {

class DelayedService {
 public:
  using Clock = std::chrono::steady_clock;

  explicit DelayedService(std::chrono::nanoseconds delay, std::size_t threads = 2) : delay_(delay) {
    for (std::size_t t = 0; t < threads; ++t) threads_.emplace_back([this] { serve(); });
  }
  DelayedService(const DelayedService&) = delete;
  DelayedService& operator=(const DelayedService&) = delete;
  ~DelayedService() {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    changed_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // Runs `reply` on one of the service's threads once the delay has passed.
  void call(std::function<void()> reply) { call_after(delay_, std::move(reply)); }
  // The same with a delay of its own (a slow request, a reply that never comes in time).
  void call_after(std::chrono::nanoseconds delay, std::function<void()> reply) {
    {
      std::lock_guard lock(mutex_);
      due_.push_back({Clock::now() + delay, order_++, std::move(reply)});
      std::push_heap(due_.begin(), due_.end(), std::greater<>());
    }
    changed_.notify_one();
  }

 private:
  struct Due {
    Clock::time_point when;
    std::size_t order;  // keeps requests due at the same time in arrival order
    std::function<void()> reply;
    bool operator>(const Due& other) const {
      return when != other.when ? when > other.when : order > other.order;
    }
  };

  void serve() {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (due_.empty()) {
        if (closing_) return;
        changed_.wait(lock);
        continue;
      }
      // A copy: a call() while this waits may move the heap's elements.
      if (const auto when = due_.front().when; !closing_ && Clock::now() < when) {
        changed_.wait_until(lock, when);
        continue;
      }
      std::pop_heap(due_.begin(), due_.end(), std::greater<>());
      auto reply = std::move(due_.back().reply);
      due_.pop_back();
      lock.unlock();
      reply();
      lock.lock();
    }
  }

  const std::chrono::nanoseconds delay_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Due> due_;  // a heap, the earliest on top
  std::size_t order_ = 0;
  bool closing_ = false;
  std::vector<std::thread> threads_;  // last: started once the rest is ready
};

}  // namespace aetherflow::testing
