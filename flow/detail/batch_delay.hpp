#pragma once
// When a generator's batch leaves before it is full (RunOptions::max_batch_delay): a live
// source's items arrive over time, and an item held for a full batch waits for the items
// after it. A generator call blocks until its item exists, so the batch cannot leave during
// a call; it leaves before one:
// - when the next call, expected to take as long as the recent ones, would make the batch's
//   first item wait past the bound (a source slower than the bound sends every item alone;
//   a fast one fills its batch long before);
// - right after a call that took much longer than the recent ones: the input paused, and
//   what is held has waited already.
// The run's first item leaves alone: there is no call to compare the next one with yet, and
// a slow source's first item must not wait for its second.
// Times are CallClock ticks (about 7 ns to read).

#include <chrono>
#include <cstddef>
#include <cstdint>

#include <flow/detail/run/call_clock.hpp>

namespace aetherflow::detail {

class BatchDelay {
 public:
  // A call this many times longer than the running average means the input paused...
  static constexpr double kPauseFactor = 8.0;
  // ...if it took at least this long (short calls vary by more than 8x without pausing).
  static constexpr std::chrono::microseconds kPauseFloor{10};

  // bound 0: no bound (batches leave full, or at the end of the input).
  explicit BatchDelay(std::chrono::nanoseconds bound)
      : bound_(ticks(bound)), pause_floor_(ticks(kPauseFloor)) {}

  bool bounded() const noexcept { return bound_ > 0; }

  // A new batch starts: its first call begins now.
  void batch_began() noexcept { last_ = CallClock::now(); }

  // A call ended, adding an item to the `held` the batch now has. True when the batch should
  // leave before another call.
  bool item_added(std::size_t held) noexcept {
    const std::uint64_t now = CallClock::now();
    const auto took = static_cast<double>(now - last_);
    last_ = now;
    if (held == 1) first_ = now;
    if (average_ < 0) {  // the run's first item: nothing to expect of the next call yet
      average_ = took;
      return true;
    }
    const bool paused = took > kPauseFactor * average_ && took >= static_cast<double>(pause_floor_);
    average_ += (took - average_) / 8;
    if (held > 1 && paused) return true;
    return static_cast<double>(now - first_) + average_ >= static_cast<double>(bound_);
  }

 private:
  static std::uint64_t ticks(std::chrono::nanoseconds d) noexcept {
    return d.count() > 0 ? CallClock::ticks(static_cast<std::uint64_t>(d.count())) : 0;
  }

  std::uint64_t bound_;
  std::uint64_t pause_floor_;
  std::uint64_t last_ = 0;   // when the last call ended (or the batch began)
  std::uint64_t first_ = 0;  // when the batch's first item was made
  double average_ = -1.0;    // ticks per call, smoothed; -1: no call yet
};

}  // namespace aetherflow::detail
