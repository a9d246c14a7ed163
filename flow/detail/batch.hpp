#pragma once
// What batches (batch_core.hpp) travel with and come from: the in-flight token shared by the
// batches of one source batch, the run's pool of spent batches, and the helpers that take,
// derive and merge them.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <flow/detail/batch_core.hpp>
#include <flow/detail/batch_sizer.hpp>
#include <flow/detail/free_list.hpp>
#include <flow/detail/ref.hpp>

namespace aetherflow::detail {

// Shared by every batch derived from one source batch. When the last of them is gone, the
// source batch is fully processed: the source may put another one in flight, and a
// checkpoint may commit it.
// Tokens are kept for reuse by their gate (free_list.hpp): one per source batch in flight.
class InFlightToken : public RefCounted {
 public:
  class Gate {
   public:
    // The token is spent: the gate keeps it for a later source batch.
    virtual void recycle(InFlightToken* token) noexcept = 0;
    // Then the source batch is done; what its calls cost, if they were timed.
    virtual void batch_done(std::uint64_t seq, const BatchCost& cost) noexcept = 0;

   protected:
    ~Gate() = default;
  };
  ~InFlightToken() override = default;  // public: a gate deletes the tokens it keeps

  // For source batch `seq`, whose `items` items are the source's items first_item, ... .
  void reset(Gate* gate, std::uint64_t seq, std::uint64_t first_item, std::uint64_t items,
             std::shared_ptr<const void> keep, std::uint64_t emitted_ns) noexcept {
    gate_ = gate;
    seq_ = seq;
    first_item_ = first_item;
    items_ = items;
    keep_ = std::move(keep);
    emitted_ns_ = emitted_ns;
    calls_.store(0, std::memory_order_relaxed);
    busy_ns_.store(0, std::memory_order_relaxed);
  }
  // When the source emitted its batch, for end-to-end latency (0 when not profiled).
  std::uint64_t emitted_ns() const noexcept { return emitted_ns_; }
  // The number of the batch's first item in its source (errors name items by it).
  std::uint64_t first_item() const noexcept { return first_item_; }
  // A call on a batch of this lineage took `ns` (timed when the run chooses its batch size).
  void add_call(std::uint64_t ns) noexcept {
    calls_.fetch_add(1, std::memory_order_relaxed);
    busy_ns_.fetch_add(ns, std::memory_order_relaxed);
  }

 private:
  void last_reference_dropped() const noexcept override {
    auto* self = const_cast<InFlightToken*>(this);
    Gate* gate = gate_;
    const std::uint64_t seq = seq_;
    const BatchCost cost{items_, calls_.load(std::memory_order_relaxed),
                         busy_ns_.load(std::memory_order_relaxed)};
    self->keep_.reset();  // a chunk buffer, say: released before the source may read more
    gate->recycle(self);
    gate->batch_done(seq, cost);
  }
  Gate* gate_ = nullptr;
  std::uint64_t seq_ = 0;  // the source batch's sequence number
  std::uint64_t first_item_ = 0, items_ = 0;
  std::shared_ptr<const void> keep_;  // memory the source batch's items point into
  std::uint64_t emitted_ns_ = 0;
  std::atomic<std::uint64_t> calls_{0}, busy_ns_{0};
};

// The spent batches of one run, a shelf per item type, refilled by its nodes instead of
// allocating new ones (free_list.hpp). Every batch a pool hands out comes back to it when its
// last reference is dropped, so the pool must outlive the run's graph.
class BatchPool {
 public:
  BatchPool() = default;
  BatchPool(const BatchPool&) = delete;
  BatchPool& operator=(const BatchPool&) = delete;
  // As FreeList's: the lock orders the deletion after the last give_back().
  ~BatchPool() { std::lock_guard lock(mutex_); }

  // An empty batch with room for `capacity` items: a spent one if there is one.
  template <class T>
  Ref<Batch<T>> take(std::size_t capacity) {
    BatchBase* spent = nullptr;
    std::size_t shelf = 0;
    {
      std::lock_guard lock(mutex_);
      shelf = shelf_of(typeid(T));
      spent = shelves_[shelf].second.take();
    }
    auto* batch = spent ? static_cast<Batch<T>*>(spent) : new Batch<T>();
    Ref<Batch<T>> ref(batch);  // owns it from here, whatever reserve() throws
    batch->pool_ = this;
    batch->shelf_ = shelf;
    batch->values.reserve(capacity);
    batch->slots.reserve(capacity);
    return ref;
  }
  void give_back(BatchBase& batch) noexcept;

 private:
  // The caller holds the lock. A run has a few item types: a linear search is enough.
  std::size_t shelf_of(const std::type_info& type);

  std::mutex mutex_;  // batches are taken on one thread and given back on another
  std::deque<std::pair<const std::type_info*, Shelf<BatchBase>>> shelves_;
};

using BatchHandle = Ref<BatchBase>;

// A move-only item cannot be copied for a second branch: said at run time, because only the
// run knows whether a batch is shared.
[[noreturn]] void throw_move_only_shared();

// An item to pass on: moved out of a batch the node owns, copied from one shared with other
// branches (a move-only item cannot be: an Error saying so).
template <class T>
T take_item(T& item, bool owned) {
  if (owned) return std::move(item);
  if constexpr (std::is_copy_constructible_v<T>)
    return T(item);
  else
    throw_move_only_shared();
}

// The flow's plan guarantees the type of every batch that reaches a node: see plan.cpp.
template <class T>
Batch<T>& batch_cast(const BatchHandle& h) {
  return static_cast<Batch<T>&>(*h);
}

// An empty batch from `pool` if there is one (a run's), else a new one.
template <class T>
Ref<Batch<T>> new_batch(BatchPool* pool, std::size_t capacity) {
  if (pool) return pool->take<T>(capacity);
  auto b = make_ref<Batch<T>>();
  b->values.reserve(capacity);
  b->slots.reserve(capacity);
  return b;
}

// A new, empty batch that continues the lineage of `from` (same sequence number and token),
// from the pool `from` came from. It keeps what `from`'s items may point into alive too
// (BatchBase::origin): views made from views (the words of a line converted on an edge from
// a std::string) point into the same memory.
template <class T>
Ref<Batch<T>> derive_batch(const BatchBase& from, std::size_t capacity) {
  auto b = new_batch<T>(from.pool(), capacity);
  b->seq = from.seq;
  b->token = from.token;
  b->origin = from.origin;
  return b;
}

// Merges several parts of one sequence number into one batch in slot order (stable: items of
// one slot keep the order of their part). Used where a node receives several parts per
// sequence number and must see them as one, as an ordered sink does.
template <class T>
Ref<Batch<T>> merge_by_slot(std::span<const BatchHandle> parts) {
  std::size_t total = 0;
  for (const auto& p : parts) total += p->slots.size();
  auto out = derive_batch<T>(*parts.front(), total);
  std::vector<std::size_t> next(parts.size(), 0);
  while (out->slots.size() < total) {
    std::size_t best = parts.size();
    for (std::size_t p = 0; p < parts.size(); ++p) {
      if (next[p] == parts[p]->slots.size()) continue;
      if (best == parts.size() || parts[p]->slots[next[p]] < parts[best]->slots[next[best]])
        best = p;
    }
    auto& part = batch_cast<T>(parts[best]);
    const std::size_t i = next[best]++;
    out->push(take_item(part.values[i], !part.shared), part.slots[i]);
  }
  return out;
}

}  // namespace aetherflow::detail
