#include <flow/detail/adaptive_limit.hpp>

#include <algorithm>

namespace aetherflow::detail {

AdaptiveLimit::AdaptiveLimit(const AdaptiveConcurrency& options)
    : options_(options),
      limit_(
          std::clamp(options.initial ? options.initial : options.min, options.min, options.max)) {}

std::size_t AdaptiveLimit::limit() const {
  std::lock_guard lock(mutex_);
  return limit_;
}

std::size_t AdaptiveLimit::changes() const {
  std::lock_guard lock(mutex_);
  return changes_;
}

std::size_t AdaptiveLimit::call_done(std::uint64_t items, std::uint64_t failed,
                                     std::chrono::nanoseconds took) {
  std::lock_guard lock(mutex_);
  const std::size_t before = limit_;
  items_ += items;
  failed_ += failed;
  took_ += took;
  if (++calls_ >= options_.window) decide();
  std::size_t release = 1;
  if (limit_ > before) release += limit_ - before;
  if (limit_ < before) owed_ += before - limit_;
  const std::size_t withheld = std::min(owed_, release);
  owed_ -= withheld;
  return release - withheld;
}

void AdaptiveLimit::decide() {
  const std::size_t before = limit_;
  // The lower of `factor` x limit and limit - 1, but not below the range.
  auto lower = [&](double factor) {
    const auto scaled = static_cast<std::size_t>(static_cast<double>(limit_) * factor);
    limit_ = std::max(options_.min, std::min(scaled, limit_ - 1));
  };
  if (items_ > 0) {
    const double error_rate = static_cast<double>(failed_) / static_cast<double>(items_);
    const double ns_per_item = static_cast<double>(took_.count()) / static_cast<double>(items_);
    if (best_ns_per_item_ == 0 || ns_per_item < best_ns_per_item_) best_ns_per_item_ = ns_per_item;
    if (error_rate > options_.max_error_rate)
      lower(0.8);
    else if (ns_per_item > options_.latency_tolerance * best_ns_per_item_)
      lower(0.9);
    else
      limit_ = std::min(options_.max, limit_ + 1);
  }
  if (limit_ != before) ++changes_;
  calls_ = 0;
  items_ = failed_ = 0;
  took_ = std::chrono::nanoseconds(0);
}

}  // namespace aetherflow::detail
