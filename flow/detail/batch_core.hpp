#pragma once
// The unit that travels between oneTBB nodes: a few hundred items of one type, the sequence
// number of the source batch they came from, and for each item its slot (its index in that
// source batch). Slots are what fan-in joins and ordered sinks key on; filtering an item
// simply leaves its slot out, so nothing ever waits for it.
//
// Only the batch itself, what the public SourceBatch and Emitter fill: the in-flight tokens,
// the pools and the sizer are in batch.hpp.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <utility>
#include <vector>

#include <flow/detail/item_vector.hpp>
#include <flow/detail/ref.hpp>

namespace aetherflow::detail {

class BatchPool;
class InFlightToken;  // batch.hpp

class BatchBase : public RefCounted {
 public:
  // Out of line, as is clear(): they may release the token, whose type is complete in
  // batch.hpp (once per batch, never per item; pooled batches are rarely made or deleted).
  BatchBase();
  ~BatchBase() override;  // public: a pool deletes the batches it keeps

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

  // The run's pool the batch came from, where batches derived from it come from too (null:
  // none, the batch is deleted when spent).
  BatchPool* pool() const noexcept { return pool_; }

 protected:
  // Empties the batch for its next use, keeping the capacity of its vectors. The items go
  // first: they may point into what `origin` and `keep` hold. The token goes last, as its
  // release may let the source read more.
  virtual void clear() noexcept;

 private:
  friend class BatchPool;
  // Back to the pool it came from, if any (BatchPool::give_back); otherwise deleted.
  void last_reference_dropped() const noexcept override;
  BatchPool* pool_ = nullptr;
  std::size_t shelf_ = 0;  // its item type's shelf in the pool
};

template <class T>
class Batch final : public BatchBase {
 public:
  ItemVector<T> values;  // values.size() == slots.size()

  void push(T value, std::uint32_t slot) {
    values.push_back(std::move(value));
    slots.push_back(slot);
  }
  // Slots 0, 1, ... for the items of a source batch, added after its values: one pass, not a
  // second push per item.
  void number_slots() {
    slots.resize(values.size());
    std::iota(slots.begin(), slots.end(), std::uint32_t{0});
  }

 private:
  void clear() noexcept override {
    values.clear();
    BatchBase::clear();
  }
};

}  // namespace aetherflow::detail
