#pragma once
// The storage of a batch's items. std::vector<T>, except for bool: std::vector<bool> packs
// its items into bits and hands out proxies instead of bool&, so nodes could not take a bool
// item by reference. BoolVector keeps one real bool per item instead.

#include <algorithm>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

namespace aetherflow::detail {

// The part of std::vector's interface that batches use, over an array of bool.
class BoolVector {
 public:
  using value_type = bool;
  using iterator = bool*;
  using const_iterator = const bool*;

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }
  bool& operator[](std::size_t i) noexcept { return data_[i]; }
  const bool& operator[](std::size_t i) const noexcept { return data_[i]; }
  iterator begin() noexcept { return data_.get(); }
  iterator end() noexcept { return data_.get() + size_; }
  const_iterator begin() const noexcept { return data_.get(); }
  const_iterator end() const noexcept { return data_.get() + size_; }

  void reserve(std::size_t n) {
    if (n <= capacity_) return;
    auto grown = std::make_unique<bool[]>(n);
    std::copy(begin(), end(), grown.get());
    data_ = std::move(grown);
    capacity_ = n;
  }
  void push_back(bool value) {
    if (size_ == capacity_) reserve(std::max<std::size_t>(16, 2 * capacity_));
    data_[size_++] = value;
  }
  iterator erase(const_iterator first, const_iterator last) noexcept {
    auto* at = begin() + (first - begin());
    std::copy(last, const_iterator(end()), at);
    size_ -= static_cast<std::size_t>(last - first);
    return at;
  }
  void clear() noexcept { size_ = 0; }

 private:
  std::unique_ptr<bool[]> data_;
  std::size_t size_ = 0, capacity_ = 0;
};

template <class T>
using ItemVector = std::conditional_t<std::is_same_v<T, bool>, BoolVector, std::vector<T>>;

}  // namespace aetherflow::detail
