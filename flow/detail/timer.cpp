#include <flow/detail/timer.hpp>

#include <algorithm>

namespace aetherflow::detail {
namespace {
bool later(const auto& a, const auto& b) {
  return a.when > b.when;
}
}  // namespace

Timer::~Timer() {
  stop();
}

void Timer::stop() {
  {
    std::lock_guard lock(mutex_);
    due_.clear();
  }
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void Timer::at(Clock::time_point when, std::function<void()> action) {
  std::lock_guard lock(mutex_);
  due_.push_back({expired_ ? Clock::time_point::min() : when, std::move(action)});
  std::push_heap(due_.begin(), due_.end(), later<Due, Due>);
  if (!thread_.joinable()) thread_ = std::jthread([this](std::stop_token stop) { loop(stop); });
  changed_.notify_one();
}

void Timer::expire_all() {
  std::lock_guard lock(mutex_);
  expired_ = true;
  for (Due& d : due_) d.when = Clock::time_point::min();
  changed_.notify_one();
}

void Timer::reset() {
  std::lock_guard lock(mutex_);
  due_.clear();
  expired_ = false;
}

void Timer::loop(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    if (due_.empty()) {
      changed_.wait(lock, stop, [this] { return !due_.empty(); });
      continue;
    }
    const Clock::time_point when = due_.front().when;
    if (Clock::now() < when) {
      changed_.wait_until(lock, stop, when,
                          [this, when] { return due_.empty() || due_.front().when != when; });
      continue;
    }
    std::pop_heap(due_.begin(), due_.end(), later<Due, Due>);
    std::function<void()> action = std::move(due_.back().action);
    due_.pop_back();
    lock.unlock();  // the action may call back into the timer
    action();
    lock.lock();
  }
}

}  // namespace aetherflow::detail
