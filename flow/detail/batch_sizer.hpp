#pragma once
// The batch size a source emits when the run chooses it (RunOptions::batch_size = 0): large
// enough that each node call carries `call_target` of work, so the fixed cost of a call (a
// oneTBB task, the batch's bookkeeping: about a microsecond) stays a few percent of it; no
// larger, so that a slow item still leaves batches for every thread. The cost of an item is
// measured on the run's own batches: the time of every node call on a source batch and on
// what derives from it, divided by its items and calls, smoothed over the last few batches.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>

#include <flow/options.hpp>

namespace aetherflow::detail {

// What the node calls on one source batch and its derived batches cost (InFlightToken).
struct BatchCost {
  std::uint64_t items = 0;  // items of the source batch
  std::uint64_t calls = 0;  // node calls on it and on the batches derived from it
  std::uint64_t busy_ns = 0;
};

class BatchSizer {
 public:
  explicit BatchSizer(const AutoBatchSize& options)
      : options_(options), size_(std::clamp(options.initial, options.min, options.max)) {}

  // The size of the source's next batch.
  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }

  // A source batch is done: its cost moves the estimate of the cost of one item in one call a
  // quarter of the way. Called from any thread; two at once may lose one sample, which only
  // slows the estimate down, so no lock.
  void batch_done(const BatchCost& cost) noexcept {
    if (cost.items == 0 || cost.calls == 0) return;
    const double sample = static_cast<double>(cost.busy_ns) /
                          (static_cast<double>(cost.items) * static_cast<double>(cost.calls));
    double estimate = per_item_call_ns_.load(std::memory_order_relaxed);
    estimate = estimate < 0 ? sample : estimate + (sample - estimate) / 4;
    per_item_call_ns_.store(estimate, std::memory_order_relaxed);
    const double target = static_cast<double>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(options_.call_target).count());
    const double wanted = estimate > 0 ? target / estimate : static_cast<double>(options_.max);
    size_.store(
        static_cast<std::size_t>(std::clamp(std::round(wanted), static_cast<double>(options_.min),
                                            static_cast<double>(options_.max))),
        std::memory_order_relaxed);
  }

 private:
  AutoBatchSize options_;
  std::atomic<std::size_t> size_;
  std::atomic<double> per_item_call_ns_{-1.0};  // -1: no batch measured yet
};

}  // namespace aetherflow::detail
