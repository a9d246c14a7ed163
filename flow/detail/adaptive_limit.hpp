#pragma once
// The rule behind NodeOptions::adaptive: a concurrency limit moved within a range from the
// calls' measured time per item and error rate (additive increase, multiplicative decrease).
// Pure bookkeeping, no threads: the executor reports each call and releases the slots this
// says it may (flow/detail/executor.cpp); tests drive it with a simulated resource.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include <flow/options.hpp>

namespace aetherflow::detail {

class AdaptiveLimit {
 public:
  explicit AdaptiveLimit(const AdaptiveConcurrency& options);

  std::size_t limit() const;
  std::size_t changes() const;  // how often the limit moved

  // One call ended, having held one slot: its items, how many of them failed, how long it
  // took. Returns how many slots to release: its own, one more when the limit rose, fewer
  // while a lowered limit is still owed slots by calls that were running.
  std::size_t call_done(std::uint64_t items, std::uint64_t failed, std::chrono::nanoseconds took);

 private:
  void decide();  // at the end of a window, under the lock

  const AdaptiveConcurrency options_;
  mutable std::mutex mutex_;
  std::size_t limit_;
  std::size_t owed_ = 0;  // slots to withhold after a decrease
  std::size_t changes_ = 0;
  // The window so far.
  std::size_t calls_ = 0;
  std::uint64_t items_ = 0, failed_ = 0;
  std::chrono::nanoseconds took_{0};
  double best_ns_per_item_ = 0;  // 0: no window measured yet
};

}  // namespace aetherflow::detail
