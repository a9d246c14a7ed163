#include <contexts/buffer_pool.hpp>

#include <bit>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <contexts/detail/poison.hpp>
#include <flow/errors.hpp>

namespace aetherflow {
namespace detail {

struct BufferShelves {
  struct Shelf {
    std::mutex mutex;
    std::vector<std::unique_ptr<std::byte[]>> idle;
  };

  explicit BufferShelves(const BufferPoolOptions& o)
      : options(o),
        first_class(std::countr_zero(o.smallest_class)),
        shelves(std::countr_zero(o.largest_class) - std::countr_zero(o.smallest_class) + 1) {}
  // Idle buffers are poisoned (poison.hpp): unpoisoned before they are freed.
  ~BufferShelves() {
    for (std::size_t c = 0; c < shelves.size(); ++c)
      for (auto& bytes : shelves[c].idle)
        unpoison_for_reuse(bytes.get(), options.smallest_class << c);
  }
  BufferShelves(const BufferShelves&) = delete;
  BufferShelves& operator=(const BufferShelves&) = delete;

  // The shelf for buffers of `capacity` bytes, or null for capacities no class has.
  Shelf* shelf_for(std::size_t capacity) {
    if (!std::has_single_bit(capacity) || capacity < options.smallest_class ||
        capacity > options.largest_class)
      return nullptr;
    return &shelves[std::countr_zero(capacity) - first_class];
  }

  std::size_t kept_per_shelf(std::size_t capacity) const {
    return std::max<std::size_t>(1, options.idle_bytes_per_class / capacity);
  }

  const BufferPoolOptions options;
  const int first_class;
  std::vector<Shelf> shelves;
  std::mutex stats_mutex;
  BufferPoolStats stats;
};

}  // namespace detail

BufferPool::BufferPool(BufferPoolOptions options) {
  if (!std::has_single_bit(options.smallest_class) || !std::has_single_bit(options.largest_class) ||
      options.smallest_class > options.largest_class)
    throw Error("BufferPool: class sizes must be powers of two, smallest <= largest (got " +
                std::to_string(options.smallest_class) + " and " +
                std::to_string(options.largest_class) + ")");
  shelves_ = std::make_shared<detail::BufferShelves>(options);
}

std::size_t BufferPool::class_size(std::size_t bytes) const noexcept {
  const auto& o = shelves_->options;
  if (bytes > o.largest_class) return bytes;
  return std::max(o.smallest_class, std::bit_ceil(bytes));
}

Buffer BufferPool::acquire(std::size_t bytes) {
  Buffer buffer;
  buffer.shelves_ = shelves_;
  buffer.capacity_ = class_size(bytes);
  buffer.size_ = bytes;
  auto* shelf = detail::kReusesIdleBuffers ? shelves_->shelf_for(buffer.capacity_) : nullptr;
  if (shelf) {
    std::lock_guard lock(shelf->mutex);
    if (!shelf->idle.empty()) {
      buffer.bytes_ = std::move(shelf->idle.back());
      shelf->idle.pop_back();
    }
  }
  if (buffer.bytes_) detail::unpoison_for_reuse(buffer.bytes_.get(), buffer.capacity_);
  std::lock_guard lock(shelves_->stats_mutex);
  if (buffer.bytes_) {
    ++shelves_->stats.reused;
    shelves_->stats.idle_bytes -= buffer.capacity_;
  } else {
    ++shelves_->stats.allocated;
    buffer.bytes_ = std::make_unique_for_overwrite<std::byte[]>(buffer.capacity_);
  }
  return buffer;
}

BufferPoolStats BufferPool::stats() const {
  std::lock_guard lock(shelves_->stats_mutex);
  return shelves_->stats;
}

void Buffer::give_back() noexcept {
  if (!bytes_ || !shelves_) return;
  bool kept = false;
  if (auto* shelf = shelves_->shelf_for(capacity_)) {
    std::lock_guard lock(shelf->mutex);
    if (shelf->idle.size() < shelves_->kept_per_shelf(capacity_)) {
      // Poisoned first: a view into it kept past its item is then caught (poison.hpp).
      detail::poison_idle(bytes_.get(), capacity_);
      shelf->idle.push_back(std::move(bytes_));
      kept = true;
    }
  }
  std::lock_guard lock(shelves_->stats_mutex);
  if (kept)
    shelves_->stats.idle_bytes += capacity_;
  else
    ++shelves_->stats.released;
  bytes_.reset();
}

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    give_back();
    shelves_ = std::move(o.shelves_);
    bytes_ = std::move(o.bytes_);
    capacity_ = std::exchange(o.capacity_, 0);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

Buffer::~Buffer() {
  give_back();
}

void Buffer::resize(std::size_t n) {
  if (n > capacity_)
    throw std::length_error("Buffer::resize(" + std::to_string(n) + ") beyond capacity " +
                            std::to_string(capacity_));
  size_ = n;
}

}  // namespace aetherflow
