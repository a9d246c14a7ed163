#pragma once
// The node behind aetherflow::top_k (nodes/top_k.hpp): keeps the k best items it received and
// emits them, best first, when the input ends. One heap per thread of the run, each behind its
// own lock (a call takes a free one), merged at the end in O(P k log k). On a cluster run each
// rank sends its k best to rank 0, which emits the k best of all. Written on the public seam
// (flow/node_kind.hpp).

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <ranges>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <flow/exchange.hpp>
#include <flow/node_kind.hpp>
#include <flow/wire.hpp>

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
  void check_on_cluster(std::vector<std::string>& problems) const override {
    if constexpr (!Wireable<T>)
      problems.push_back(fmt::format(
          "top-k '{}' sends each rank's best items to rank 0, and items of type {} cannot cross "
          "ranks: give the type a cereal serialize() function (flow/wire.hpp)",
          name(), type_name(typeid(T))));
  }
  bool holds_items() const override { return true; }
  std::string detail_label() const override { return fmt::format("k = {}", k_); }

  void begin_run(const RunStart& run) const override {
    heap_count_ = std::max<std::size_t>(run.threads, 1);
    heaps_ = std::make_unique<Heap[]>(heap_count_);
    emitted_ = false;
    place_ = run.cluster;
    exchange_.reset();
    if constexpr (Wireable<T>)
      if (place_.ranks > 1) exchange_ = std::make_unique<Exchange>(place_);
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
  // run makes at once. On a cluster, ranks other than 0 send theirs to rank 0 instead, which
  // waits for every rank's.
  bool flush(std::span<BatchHandle> out, CallContext& ctx, bool end_of_stream) const override {
    if (!end_of_stream || ctx.stopping() || emitted_.exchange(true) || !heaps_) return false;
    std::vector<T> all;
    for (std::size_t h = 0; h < heap_count_; ++h)
      for (T& item : heaps_[h].items) all.push_back(std::move(item));
    heaps_.reset();
    keep_best(all, ctx);
    auto received = std::make_shared<std::vector<std::shared_ptr<const Bytes>>>();
    if (exchange_ && !gather_at_rank_zero(all, *received, ctx)) return false;
    auto best = make_ref<Batch<T>>();
    if (!received->empty()) best->keep = std::move(received);  // views into the messages
    for (std::size_t i = 0; i < all.size(); ++i)
      best->push(std::move(all[i]), static_cast<std::uint32_t>(i));
    ctx.counts.out += all.size();
    if (!all.empty()) out[0] = std::move(best);
    return false;
  }

  std::uint64_t drop_held() const override {
    std::uint64_t held = exchange_ ? exchange_->items_held() : 0;
    exchange_.reset();
    if (!heaps_) return held;
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

  // `all`, sorted best first, cut to k (the rest filtered).
  void keep_best(std::vector<T>& all, CallContext& ctx) const {
    std::sort(all.begin(), all.end(), better());
    const std::size_t kept = std::min(k_, all.size());
    ctx.counts.filtered += all.size() - kept;
    all.resize(kept);
  }

  // A rank's k best to rank 0 (false: this rank emits nothing), or on rank 0 every rank's
  // merged into `all` (false: the run stopped first).
  bool gather_at_rank_zero(std::vector<T>& all, std::vector<std::shared_ptr<const Bytes>>& received,
                           CallContext& ctx) const {
    if constexpr (Wireable<T>) {
      if (place_.rank != 0) {
        exchange_->add(0, all.size(), [&](Bytes& bytes) { wire_write(bytes, all); }, {});
        exchange_->end_stream({});
        ctx.counts.sent += all.size();
        return false;
      }
      while (!exchange_->ended()) {
        if (ctx.stopping()) return false;
        if (auto m = exchange_->take()) {
          wire_read(*m->bytes, m->offset, m->items, all);
          ctx.counts.received += m->items;
          received.push_back(m->bytes);
        } else {
          exchange_->wait(std::chrono::milliseconds(1));
        }
      }
      keep_best(all, ctx);
      return true;
    } else {
      (void)all, (void)received, (void)ctx;
      return true;
    }
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
  mutable ClusterPlace place_;                  // cluster runs of several ranks only
  mutable std::unique_ptr<Exchange> exchange_;  // to rank 0
};

}  // namespace aetherflow::detail
