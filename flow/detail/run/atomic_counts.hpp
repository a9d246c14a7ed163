#pragma once
// A node's item counts during a run: every call adds its ItemCounts here, once per batch, from
// any thread. The fields are ItemCounts' own (ItemCounts::each), so a new count is added in one
// place, flow/report.hpp.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <type_traits>

#include <flow/report.hpp>

namespace aetherflow::detail {

class AtomicItemCounts {
 public:
  void add(const ItemCounts& counts) noexcept {
    std::size_t i = 0;
    ItemCounts::each(
        counts, [&](const auto& count) __attribute__((always_inline)) {
          // Only what there is to add: the rare counts cost no write to a shared line.
          if (const std::uint64_t n = number(count))
            totals_[i].fetch_add(n, std::memory_order_relaxed);
          ++i;
        });
  }
  ItemCounts load() const noexcept {
    ItemCounts counts;
    std::size_t i = 0;
    ItemCounts::each(counts, [&](auto& count) {
      const std::uint64_t n = totals_[i++].load(std::memory_order_relaxed);
      if constexpr (std::is_same_v<std::remove_cvref_t<decltype(count)>, std::uint64_t>)
        count = n;
      else
        count = std::chrono::nanoseconds(n);
    });
    return counts;
  }

 private:
  static std::uint64_t number(std::uint64_t n) noexcept { return n; }
  static std::uint64_t number(std::chrono::nanoseconds t) noexcept {
    return static_cast<std::uint64_t>(t.count());
  }
  std::array<std::atomic<std::uint64_t>, ItemCounts::kCounts> totals_{};
};

}  // namespace aetherflow::detail
