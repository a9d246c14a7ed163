#include <flow/detail/run/progress.hpp>

namespace aetherflow::detail {

void RunProgress::Source::publish(std::uint64_t items, const SourcePosition& position) noexcept {
  items_.fetch_add(items, std::memory_order_relaxed);
  bytes_.store(position.bytes, std::memory_order_relaxed);
  total_bytes_.store(position.total_bytes ? static_cast<std::int64_t>(*position.total_bytes) : -1,
                     std::memory_order_relaxed);
}

Progress RunProgress::now(bool done) const {
  Progress p;
  p.done = done;
  p.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now() - start_);
  bool reads_bytes = false, totals_known = true;
  std::uint64_t total = 0;
  for (const auto& source : sources_) {
    p.items += source.items_.load(std::memory_order_relaxed);
    const std::uint64_t bytes = source.bytes_.load(std::memory_order_relaxed);
    const std::int64_t source_total = source.total_bytes_.load(std::memory_order_relaxed);
    p.bytes += bytes;
    if (bytes == 0 && source_total < 0) continue;  // a source that reads no bytes
    reads_bytes = true;
    if (source_total < 0)
      totals_known = false;
    else
      total += static_cast<std::uint64_t>(source_total);
  }
  if (reads_bytes && totals_known) p.total_bytes = total;
  p.derive_rates();
  if (fill_nodes_) add_nodes(p);
  return p;
}

void RunProgress::add_nodes(Progress& p) const {
  fill_nodes_(p.nodes);
  std::lock_guard lock(nodes_mutex_);
  if (p.done) {
    last_out_.assign(p.nodes.size(), 0);
    last_elapsed_ = {};
  }
  last_out_.resize(p.nodes.size(), 0);
  const double seconds = std::chrono::duration<double>(p.elapsed - last_elapsed_).count();
  for (std::size_t i = 0; i < p.nodes.size(); ++i) {
    NodeProgress& n = p.nodes[i];
    if (seconds > 0 && n.out >= last_out_[i])
      n.out_per_second = static_cast<double>(n.out - last_out_[i]) / seconds;
    last_out_[i] = n.out;
  }
  last_elapsed_ = p.elapsed;
}

void RunProgress::maybe_report() {
  if (!options_.progress) return;
  const auto now_ns = std::chrono::steady_clock::now().time_since_epoch().count();
  const auto interval = std::chrono::nanoseconds(options_.progress_interval).count();
  auto last = last_report_.load(std::memory_order_relaxed);
  if (now_ns - last < interval) return;
  if (!last_report_.compare_exchange_strong(last, now_ns)) return;  // another source reports
  options_.progress(now(false));
}

}  // namespace aetherflow::detail
