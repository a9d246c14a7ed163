#pragma once
// A tiered pool of byte buffers, for chunked I/O and batch storage: sizes are rounded up to a
// power-of-two class (256 B up to 4 MiB by default) and a returned buffer waits on its class's
// shelf for the next request of that class, so a steady stream of same-sized chunks allocates
// nothing after warm-up. Each shelf keeps at most a byte budget of idle buffers; larger
// requests than the largest class are allocated and freed directly. Idle buffers are
// poisoned in debug and AddressSanitizer builds, and never reused under AddressSanitizer, so
// that memory used past its lifetime is caught (detail/poison.hpp).
//
//   aetherflow::BufferPool pool;
//   aetherflow::Buffer chunk = pool.acquire(1 << 20);   // capacity() >= 1 MiB
//   auto n = ::read(fd, chunk.data(), chunk.capacity());
//   chunk.resize(n);
//   // back on the shelf when `chunk` is destroyed

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace aetherflow {

struct BufferPoolOptions {
  std::size_t smallest_class = 256;            // bytes, a power of two
  std::size_t largest_class = 4 << 20;         // bytes, a power of two
  std::size_t idle_bytes_per_class = 8 << 20;  // at least one buffer is always kept
};

struct BufferPoolStats {
  std::uint64_t reused = 0;     // requests served from a shelf
  std::uint64_t allocated = 0;  // requests that allocated (a miss, or larger than any class)
  std::uint64_t released = 0;   // buffers freed on return: shelf full, or larger than any class
  std::size_t idle_bytes = 0;   // bytes waiting on shelves now
};

namespace detail {
struct BufferShelves;
}

class Buffer {
 public:
  Buffer() = default;
  Buffer(Buffer&&) noexcept = default;
  Buffer& operator=(Buffer&& o) noexcept;
  ~Buffer();

  std::byte* data() const noexcept { return bytes_.get(); }
  char* chars() const noexcept { return reinterpret_cast<char*>(bytes_.get()); }
  std::size_t capacity() const noexcept { return capacity_; }
  // Bytes in use, as set by resize(); starts at the requested size.
  std::size_t size() const noexcept { return size_; }
  void resize(std::size_t n);  // up to capacity(); std::length_error beyond
  std::span<std::byte> bytes() const noexcept { return {bytes_.get(), size_}; }

 private:
  friend class BufferPool;
  std::shared_ptr<detail::BufferShelves> shelves_;  // keeps the shelves alive for the return
  std::unique_ptr<std::byte[]> bytes_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
  void give_back() noexcept;
};

class BufferPool {
 public:
  explicit BufferPool(BufferPoolOptions options = {});
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // A buffer of at least `bytes` capacity, its size() set to `bytes`.
  Buffer acquire(std::size_t bytes);
  BufferPoolStats stats() const;
  // The capacity a request of `bytes` gets.
  std::size_t class_size(std::size_t bytes) const noexcept;

 private:
  std::shared_ptr<detail::BufferShelves> shelves_;
};

}  // namespace aetherflow
