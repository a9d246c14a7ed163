#include <flow/detail/batch.hpp>

#include <flow/errors.hpp>

namespace aetherflow::detail {

BatchBase::BatchBase() = default;
BatchBase::~BatchBase() = default;

void BatchBase::clear() noexcept {
  slots.clear();
  origin = {};
  keep.reset();
  token = {};
  shared = false;
  ready_ns = 0;
  seq = 0;
}

void BatchBase::last_reference_dropped() const noexcept {
  auto* self = const_cast<BatchBase*>(this);
  if (pool_)
    pool_->give_back(*self);
  else
    delete self;
}

void BatchPool::give_back(BatchBase& batch) noexcept {
  batch.clear();  // outside the lock: releasing the token may let the source run and take one
  std::lock_guard lock(mutex_);
  shelves_[batch.shelf_].second.put(&batch);
}

std::size_t BatchPool::shelf_of(const std::type_info& type) {
  for (std::size_t i = 0; i < shelves_.size(); ++i)
    if (*shelves_[i].first == type) return i;
  shelves_.emplace_back(std::piecewise_construct, std::forward_as_tuple(&type),
                        std::forward_as_tuple());
  return shelves_.size() - 1;
}

void throw_move_only_shared() {
  throw Error(
      "a move-only item is shared by several branches and cannot be copied for a node that "
      "takes it by value: take it by const reference");
}

}  // namespace aetherflow::detail
