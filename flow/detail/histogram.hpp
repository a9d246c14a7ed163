#pragma once
// A fixed latency histogram: 8 buckets per power of two, so a percentile read back is within
// 12.5% of the true value, whatever the range. Plain counters: each worker thread records
// into its own histogram, and they are merged when the run ends.

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <utility>
#include <vector>

#include <flow/profile.hpp>

namespace aetherflow::detail {

class Histogram {
 public:
  static constexpr int kSubBits = 3;  // 8 sub-buckets per power of two
  static constexpr std::size_t kBuckets = (64 - kSubBits + 1) << kSubBits;

  static std::size_t bucket_of(std::uint64_t v) noexcept {
    if (v < (1u << kSubBits)) return static_cast<std::size_t>(v);
    const int e = std::bit_width(v) - 1;  // >= kSubBits
    const auto sub = static_cast<std::size_t>((v >> (e - kSubBits)) & ((1u << kSubBits) - 1));
    return (static_cast<std::size_t>(e - kSubBits + 1) << kSubBits) + sub;
  }
  // The largest value that falls into bucket `b`.
  static std::uint64_t upper_bound(std::size_t b) noexcept {
    if (b < (1u << kSubBits)) return b;
    const int e = static_cast<int>(b >> kSubBits) + kSubBits - 1;
    const std::uint64_t sub = b & ((1u << kSubBits) - 1);
    const std::uint64_t lower = ((1ull << kSubBits) + sub) << (e - kSubBits);
    return lower + (1ull << (e - kSubBits)) - 1;
  }

  void record(std::uint64_t v) noexcept {
    ++counts_[bucket_of(v)];
    sum_ += v;
    max_ = std::max(max_, v);
  }
  void merge(const Histogram& other) noexcept {
    for (std::size_t b = 0; b < kBuckets; ++b) counts_[b] += other.counts_[b];
    sum_ += other.sum_;
    max_ = std::max(max_, other.max_);
  }

  std::uint64_t count() const noexcept {
    std::uint64_t n = 0;
    for (auto c : counts_) n += c;
    return n;
  }
  std::uint64_t sum() const noexcept { return sum_; }

  // Percentiles, with every value first multiplied by `scale` (ticks to nanoseconds).
  LatencySummary summary(double scale = 1.0) const {
    LatencySummary s;
    s.count = count();
    if (s.count == 0) return s;
    auto scaled = [scale](std::uint64_t v) {
      return static_cast<std::uint64_t>(static_cast<double>(v) * scale);
    };
    s.max_ns = scaled(max_);
    s.mean_ns = scaled(sum_ / s.count);
    auto percentile = [&](double q) {
      const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(s.count - 1)) + 1;
      std::uint64_t seen = 0;
      for (std::size_t b = 0; b < kBuckets; ++b) {
        seen += counts_[b];
        if (seen >= rank) return std::min(scaled(upper_bound(b)), s.max_ns);
      }
      return s.max_ns;
    };
    s.p50_ns = percentile(0.50);
    s.p90_ns = percentile(0.90);
    s.p99_ns = percentile(0.99);
    s.p999_ns = percentile(0.999);
    return s;
  }

  // The histogram's own buckets, from the first to the last that holds a value: each one's
  // upper bound times `scale` (the last one's: the largest value, as summary() caps), with
  // the count of values at or below it. Exported as is (to Prometheus), a percentile computed
  // from them falls in the bucket the summary reads.
  std::vector<std::pair<double, std::uint64_t>> cumulative(double scale = 1.0) const {
    std::vector<std::pair<double, std::uint64_t>> out;
    std::size_t first = 0, last = kBuckets;
    while (first < kBuckets && counts_[first] == 0) ++first;
    while (last > first && counts_[last - 1] == 0) --last;
    std::uint64_t seen = 0;
    for (std::size_t b = first; b < last; ++b) {
      seen += counts_[b];
      out.emplace_back(static_cast<double>(std::min(upper_bound(b), max_)) * scale, seen);
    }
    return out;
  }

 private:
  // sum_ and max_ first: with the low buckets, which latencies in ticks never reach, they
  // share the cache line a recording touches anyway.
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
  std::array<std::uint64_t, kBuckets> counts_{};
};

}  // namespace aetherflow::detail
