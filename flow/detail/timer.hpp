#pragma once
// Runs actions at given times on a thread of its own, started by the first action and joined
// when the timer is destroyed. A run uses it to end retry delays and to cancel itself at its
// deadline; a run that needs neither starts no thread.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

namespace aetherflow::detail {

class Timer {
 public:
  using Clock = std::chrono::steady_clock;

  Timer() = default;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer();  // drops what is still pending

  // Runs `action` on the timer's thread at `when`, or at once after expire_all().
  void at(Clock::time_point when, std::function<void()> action);
  // Runs every pending action now, and every later one as soon as it is given.
  void expire_all();
  // Drops every pending action, and expects new ones again on their time.
  void reset();
  // Drops every pending action and joins the thread, after the action it may be running: no
  // action runs after this returns.
  void stop();

 private:
  struct Due {
    Clock::time_point when;
    std::function<void()> action;
  };
  void loop(std::stop_token stop);

  std::mutex mutex_;
  std::condition_variable_any changed_;
  std::vector<Due> due_;  // a heap, the earliest on top
  bool expired_ = false;
  std::jthread thread_;  // last: joined before the rest goes
};

}  // namespace aetherflow::detail
