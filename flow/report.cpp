#include <flow/report.hpp>

#include <algorithm>
#include <ostream>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <flow/detail/counter_lines.hpp>

namespace aetherflow {

const NodeReport& RunReport::node(std::string_view name) const {
  for (const auto& n : nodes)
    if (n.name == name) return n;
  throw std::out_of_range(fmt::format("run report of flow '{}' has no node '{}'", flow, name));
}

std::uint64_t RunReport::source_items() const {
  std::uint64_t total = 0;
  for (const auto& n : nodes)
    if (n.kind == "source") total += n.out;
  return total;
}

std::string shard_label(const std::vector<ShardLoad>& shards, std::size_t index) {
  const bool ranks =
      std::any_of(shards.begin(), shards.end(), [](const ShardLoad& s) { return s.rank != 0; });
  if (!ranks) return fmt::format("shard {}", index);
  const std::uint32_t rank = shards[index].rank;
  const auto before =
      std::count_if(shards.begin(), shards.begin() + static_cast<std::ptrdiff_t>(index),
                    [&](const ShardLoad& s) { return s.rank == rank; });
  return fmt::format("rank {}'s shard {}", rank, before);
}

double largest_shard_share(const std::vector<ShardLoad>& shards) {
  std::uint64_t total = 0, largest = 0;
  for (const ShardLoad& s : shards) {
    total += s.items;
    largest = std::max(largest, s.items);
  }
  return total ? static_cast<double>(largest) / static_cast<double>(total) : 0.0;
}

double RunReport::items_per_second() const {
  const double s = wall_seconds();
  return s > 0 ? static_cast<double>(source_items()) / s : 0.0;
}

std::ostream& operator<<(std::ostream& os, const RunReport& r) {
  std::size_t width = 4;
  for (const auto& n : r.nodes) width = std::max(width, n.name.size());
  fmt::print(os, "flow '{}': {} items in {:.3f} s ({:.0f} items/s), {} threads, batch {}{}\n",
             r.flow, r.source_items(), r.wall_seconds(), r.items_per_second(), r.threads,
             r.batch_size, r.batch_size_chosen ? " (chosen by the run)" : "");
  if (r.threads_requested > r.threads)
    fmt::print(os,
               "  {} threads were requested; oneTBB runs at most {} at once here (the machine's "
               "cores, unless a tbb::global_control raises it)\n",
               r.threads_requested, r.threads);
  if (r.ranks > 1)
    fmt::print(os, "  {}\n",
               r.per_rank.empty() ? fmt::format("rank {} of {}: this rank's own", r.rank, r.ranks)
                                  : fmt::format("the whole job, on {} ranks", r.ranks));
  if (!r.stop_reason.empty())
    fmt::print(os, "  {}: {}\n", r.cancelled ? "cancelled" : "stopped", r.stop_reason);
  auto points = [&](std::string_view what, const Checkpoint& c) {
    for (const auto& s : c.sources)
      fmt::print(os, "  {} source '{}' at byte {}, item {}{}\n", what, s.source, s.committed.offset,
                 s.committed.items, s.finished ? " (finished)" : "");
  };
  if (r.resumed_from) points("resumed", *r.resumed_from);
  if (r.checkpoint) points("checkpoint: committed", *r.checkpoint);
  constexpr auto row = "  {:<{}}  {:<9} {:>12} {:>12} {:>10} {:>8} {:>8} {:>10} {:>8} {:>10}\n";
  fmt::print(os, row, "node", width, "kind", "in", "out", "filtered", "failed", "retries",
             "cancelled", "errors", "waits");
  for (const auto& n : r.nodes)
    fmt::print(os, row, n.name, width, n.kind, n.in, n.out, n.filtered, n.failed, n.retries,
               n.cancelled, n.errors, n.waits);
  for (const auto& n : r.nodes)
    if (n.sent || n.received)
      fmt::print(os, "  across ranks, '{}': {} items sent, {} received\n", n.name, n.sent,
                 n.received);
  detail::print_counters(os, r.nodes);
  detail::print_shards(os, r.nodes);
  detail::print_operations(os, r.nodes);
  for (const auto& n : r.nodes)
    if (n.adaptive)
      fmt::print(os,
                 "  adaptive concurrency of '{}': limit {} at the end, in {} to {}, {} changes\n",
                 n.name, n.adaptive->limit, n.adaptive->min, n.adaptive->max, n.adaptive->changes);
  return os;
}

}  // namespace aetherflow
