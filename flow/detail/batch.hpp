#pragma once
// The unit that travels between oneTBB nodes: a few hundred items of one type, the sequence
// number of the source batch they came from, and for each item its slot (its index in that
// source batch). Slots are what fan-in joins and ordered sinks key on; filtering an item
// simply leaves its slot out, so nothing ever waits for it.

#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include <flow/detail/ref.hpp>

namespace aetherflow::detail {

// Shared by every batch derived from one source batch. When the last of them is gone, the
// source batch is fully processed: the source may put another one in flight, and a
// checkpoint may commit it.
class InFlightToken : public RefCounted {
 public:
  class Gate {
   public:
    virtual void batch_done(std::uint64_t seq) noexcept = 0;

   protected:
    ~Gate() = default;
  };
  InFlightToken(Gate* gate, std::uint64_t seq, std::shared_ptr<const void> keep,
                std::uint64_t emitted_ns)
      : gate_(gate), seq_(seq), keep_(std::move(keep)), emitted_ns_(emitted_ns) {}
  // When the source emitted its batch, for end-to-end latency (0 when not profiled).
  std::uint64_t emitted_ns() const noexcept { return emitted_ns_; }

 private:
  void last_reference_dropped() const noexcept override {
    Gate* gate = gate_;
    const std::uint64_t seq = seq_;
    delete this;  // releases `keep_` (a chunk buffer, say) before the source may read more
    gate->batch_done(seq);
  }
  Gate* gate_;
  std::uint64_t seq_;                 // the source batch's sequence number
  std::shared_ptr<const void> keep_;  // memory the source batch's items point into
  std::uint64_t emitted_ns_;
};

class BatchBase : public RefCounted {
 public:
  std::uint64_t seq = 0;
  Ref<InFlightToken> token;
  std::vector<std::uint32_t> slots;  // slots[i] belongs to the i-th item, ascending per part
  // Set by the executor when the batch leaves on a port with several edges (fan-out): the
  // receiving nodes then read its items and copy what they need. An unshared batch belongs to
  // the one node receiving it, which may move items out or rewrite the batch in place.
  bool shared = false;
  // Set by a source whose items point into memory it owns (a chunk buffer): the executor
  // hands it to the batch's in-flight token, which releases it when every batch derived
  // from this one is done.
  std::shared_ptr<const void> keep;
  // Set by the conversion on an edge (std::string to std::string_view, say): the batch it
  // converted, which the converted items may point into, kept alive as long as this one.
  Ref<BatchBase> origin;
  // When the batch became ready for the nodes it was sent to (profiled runs; 0 otherwise).
  std::uint64_t ready_ns = 0;
};

template <class T>
class Batch final : public BatchBase {
 public:
  std::vector<T> values;  // values.size() == slots.size()

  void push(T value, std::uint32_t slot) {
    values.push_back(std::move(value));
    slots.push_back(slot);
  }
};

using BatchHandle = Ref<BatchBase>;

// A move-only item cannot be copied for a second branch: said at run time, because only the
// run knows whether a batch is shared.
[[noreturn]] void throw_move_only_shared();

// The flow's plan guarantees the type of every batch that reaches a node: see plan.cpp.
template <class T>
Batch<T>& batch_cast(const BatchHandle& h) {
  return static_cast<Batch<T>&>(*h);
}

// A new, empty batch that continues the lineage of `from` (same sequence number and token).
template <class T>
Ref<Batch<T>> derive_batch(const BatchBase& from, std::size_t capacity) {
  auto b = make_ref<Batch<T>>();
  b->seq = from.seq;
  b->token = from.token;
  b->values.reserve(capacity);
  b->slots.reserve(capacity);
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
    if (!part.shared)
      out->push(std::move(part.values[i]), part.slots[i]);
    else if constexpr (std::is_copy_constructible_v<T>)
      out->push(part.values[i], part.slots[i]);
    else
      throw_move_only_shared();
  }
  return out;
}

}  // namespace aetherflow::detail
