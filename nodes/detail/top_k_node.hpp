#pragma once
// The node behind aetherflow::top_k (nodes/top_k.hpp): keeps the k best items it received and
// emits them, best first, when the input ends. One heap per thread of the run, each behind its
// own lock (a call takes a free one), merged at the end in O(P k log k). Written on the public
// seam (flow/node_kind.hpp).

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <flow/node_kind.hpp>

namespace aetherflow::detail {

// The best k of all items, whatever batch they came in: no user code per item but `by`.
inline constexpr NodeTraits kTopKTraits{.label = "top_k",
                                        .noun = "top-k",
                                        .item_calls = false,
                                        .adaptable = false,
                                        .slots = Slots::regrouped};

template <class T, class By>
class TopKNode final : public NodeImpl {
 public:
  TopKNode(std::string name, NodeOptions options, std::size_t k, By by)
      : NodeImpl(std::move(name), kTopKTraits, options), k_(k), by_(std::move(by)) {
    inputs_ = {&typeid(T)};
    output_ = &typeid(T);
  }

  void check(std::vector<std::string>& problems) const override {
    if (k_ == 0) problems.push_back(fmt::format("'{}': top_k needs k of at least 1", name()));
  }
  bool holds_items() const override { return true; }
  std::string detail_label() const override { return fmt::format("k = {}", k_); }

  void begin_run(const RunStart& run) const override {
    heap_count_ = std::max<std::size_t>(run.threads, 1);
    heaps_ = std::make_unique<Heap[]>(heap_count_);
    emitted_ = false;
  }

  void process(std::span<const BatchHandle> in, std::span<BatchHandle> /*out*/,
               CallContext& ctx) const override {
    auto& batch = batch_cast<T>(in[0]);
    const std::size_t n = batch.values.size();
    Heap& heap = free_heap(batch.seq);
    const std::lock_guard lock(heap.mutex, std::adopt_lock);
    std::size_t i = 0;
    for (; i < n && !(i % 16 == 0 && ctx.stopping()); ++i) {
      T& item = batch.values[i];
      if (heap.items.size() < k_) {
        heap.items.push_back(take_item(item, !batch.shared));
        std::push_heap(heap.items.begin(), heap.items.end(), better());
      } else if (better()(item, heap.items.front())) {
        std::pop_heap(heap.items.begin(), heap.items.end(), better());
        heap.items.back() = take_item(item, !batch.shared);
        std::push_heap(heap.items.begin(), heap.items.end(), better());
        ++ctx.counts.filtered;  // the one it displaced
      } else {
        ++ctx.counts.filtered;
      }
    }
    ctx.counts.in += n;
    ctx.counts.cancelled += n - i;
  }

  // When the input ends: the k best of all heaps, best first, from the first of the calls the
  // run makes at once.
  bool flush(std::span<BatchHandle> out, CallContext& ctx, bool end_of_stream) const override {
    if (!end_of_stream || ctx.stopping() || emitted_.exchange(true) || !heaps_) return false;
    std::vector<T> all;
    for (std::size_t h = 0; h < heap_count_; ++h)
      for (T& item : heaps_[h].items) all.push_back(std::move(item));
    heaps_.reset();
    std::sort(all.begin(), all.end(), better());
    const std::size_t kept = std::min(k_, all.size());
    ctx.counts.filtered += all.size() - kept;
    auto best = make_ref<Batch<T>>();
    for (std::size_t i = 0; i < kept; ++i)
      best->push(std::move(all[i]), static_cast<std::uint32_t>(i));
    ctx.counts.out += kept;
    if (kept) out[0] = std::move(best);
    return false;
  }

  std::uint64_t drop_held() const override {
    if (!heaps_) return 0;
    std::uint64_t held = 0;
    for (std::size_t h = 0; h < heap_count_; ++h) held += heaps_[h].items.size();
    heaps_.reset();
    return held;
  }

 private:
  struct alignas(64) Heap {
    std::mutex mutex;
    std::vector<T> items;  // a heap whose front is the worst of them
  };

  // a before b: a larger `by`, then, on a tie, the smaller item (operator<), so that equal
  // scores come out the same way in every run.
  auto better() const {
    return [this](const T& a, const T& b) {
      const auto sa = by_(a), sb = by_(b);
      if (sb < sa) return true;
      if (sa < sb) return false;
      return a < b;
    };
  }

  // A heap no other call holds, locked: calls start at different heaps and wait only when
  // every one is taken.
  Heap& free_heap(std::uint64_t seq) const {
    for (std::size_t k = 0; k < heap_count_; ++k) {
      Heap& heap = heaps_[(seq + k) % heap_count_];
      if (heap.mutex.try_lock()) return heap;
    }
    Heap& heap = heaps_[seq % heap_count_];
    heap.mutex.lock();
    return heap;
  }

  std::size_t k_;
  By by_;
  mutable std::size_t heap_count_ = 0;
  mutable std::unique_ptr<Heap[]> heaps_;  // the run's (begin_run)
  mutable std::atomic<bool> emitted_{false};
};

}  // namespace aetherflow::detail
