#pragma once
// The node behind aetherflow::batch (nodes/batch.hpp): groups items into vectors of `size`. A
// group leaves when it is full, when `max_wait` has passed since its first item, and at the end
// of the run. It keeps items between calls, so the run gives it two ways to emit outside a call
// (NodeImpl::flush): a timer for max_wait, and the end of stream. A whole node kind in one
// file, written on the public seam (flow/node_kind.hpp) as a user's kind would be.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <flow/node_kind.hpp>

namespace aetherflow::detail {

// Groups mix items of different source batches, and the node calls no user code per item.
inline constexpr NodeTraits kBatchTraits{.label = "batch",
                                         .noun = "batch",
                                         .item_calls = false,
                                         .adaptable = false,
                                         .slots = Slots::regrouped};

template <class T>
class BatchNode final : public NodeImpl {
 public:
  using Group = std::vector<T>;
  using Clock = std::chrono::steady_clock;

  BatchNode(std::string name, NodeOptions options, std::size_t size,
            std::chrono::nanoseconds max_wait)
      : NodeImpl(std::move(name), kBatchTraits, serial_unless_set(options)),
        size_(size),
        max_wait_(max_wait) {
    inputs_ = {&typeid(T)};
    output_ = &typeid(Group);
  }

  void check(std::vector<std::string>& problems) const override {
    if (size_ == 0) problems.push_back(fmt::format("'{}': batch size must be at least 1", name()));
    if (max_wait_.count() < 0)
      problems.push_back(fmt::format("'{}': batch max_wait must not be negative", name()));
  }

  bool holds_items() const override { return true; }
  std::string detail_label() const override {
    if (max_wait_.count() == 0) return fmt::format("size {}", size_);
    return fmt::format("size {}, {} ms", size_,
                       std::chrono::duration<double, std::milli>(max_wait_).count());
  }

  void process(std::span<const BatchHandle> in, std::span<BatchHandle> out,
               CallContext& ctx) const override {
    auto& batch = batch_cast<T>(in[0]);
    const std::size_t n = batch.slots.size();
    auto groups = derive_batch<Group>(batch, 0);
    bool started = false;  // a group began in this call and is still open
    std::size_t i = 0;
    {
      std::lock_guard lock(mutex_);
      for (; i < n && !(i % 16 == 0 && ctx.stopping()); ++i) {
        if (pending_.empty()) {
          pending_.reserve(size_);
          since_ = Clock::now();
          started = true;
        }
        // Moved when the batch is this node's alone, else copied.
        pending_.push_back(take_item(batch.values[i], !batch.shared));
        if (pending_.size() == size_) {
          emit(*groups, ctx);
          started = false;
        }
      }
    }
    ctx.counts.in += n;
    ctx.counts.cancelled += n - i;
    if (started && max_wait_.count() > 0 && ctx.run) ctx.run->flush_later(*this, max_wait_);
    out[0] = std::move(groups);
  }

  // The open group, if it is due (`end_of_stream`, or max_wait has passed since its first item).
  // Nothing while the run is stopping: drop_held() counts what is left.
  bool flush(std::span<BatchHandle> out, CallContext& ctx, bool end_of_stream) const override {
    if (ctx.stopping()) return false;
    std::lock_guard lock(mutex_);
    if (pending_.empty()) return false;
    if (!end_of_stream && Clock::now() - since_ < max_wait_) return false;  // a younger group
    auto groups = make_ref<Batch<Group>>();
    emit(*groups, ctx);
    out[0] = std::move(groups);
    return false;  // one group at most is open
  }

  std::uint64_t drop_held() const override {
    std::lock_guard lock(mutex_);
    const std::uint64_t dropped = pending_.size();
    pending_.clear();
    return dropped;
  }

 private:
  static NodeOptions serial_unless_set(NodeOptions options) {
    if (!options.concurrency) options.concurrency = serial;  // groups in arrival order
    return options;
  }

  // Sends the open group on; the caller holds the lock.
  void emit(Batch<Group>& groups, CallContext& ctx) const {
    groups.push(std::move(pending_), static_cast<std::uint32_t>(groups.slots.size()));
    pending_ = Group();
    ++ctx.counts.out;
  }

  std::size_t size_;
  std::chrono::nanoseconds max_wait_;
  mutable std::mutex mutex_;  // calls and the timer's flushes
  mutable Group pending_;
  mutable Clock::time_point since_;  // when the open group's first item arrived
};

}  // namespace aetherflow::detail
