#include <flow/tune.hpp>

#include <algorithm>
#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <flow/detail/executor.hpp>
#include <flow/errors.hpp>

namespace aetherflow {
namespace {

// 1, 2, 4, ... below every core, then every core.
std::vector<std::size_t> default_threads() {
  const std::size_t cores = detail::resolve_threads(0);
  std::vector<std::size_t> threads;
  for (std::size_t t = 1; t < cores; t *= 2) threads.push_back(t);
  threads.push_back(cores);
  return threads;
}

void check(const TuneGrid& grid, const std::vector<std::size_t>& threads) {
  auto has_zero = [](const std::vector<std::size_t>& v) {
    return std::find(v.begin(), v.end(), 0u) != v.end();
  };
  if (threads.empty() || grid.batch_sizes.empty())
    throw Error("tune: the grid needs at least one thread count and one batch size");
  if (has_zero(threads) || has_zero(grid.batch_sizes))
    throw Error("tune: thread counts and batch sizes must be at least 1");
  if (grid.sample_items == 0 || grid.repetitions == 0)
    throw Error("tune: sample_items and repetitions must be at least 1");
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t mid = v.size() / 2;
  return v.size() % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

}  // namespace

RunOptions TuneResult::options() const {
  RunOptions o;
  o.threads = threads;
  o.batch_size = batch_size;
  return o;
}

TuneResult tune(Flow& flow, Context& context, const TuneGrid& grid) {
  const std::vector<std::size_t> threads = grid.threads.empty() ? default_threads() : grid.threads;
  check(grid, threads);
  TuneResult result;
  result.sample_items = grid.sample_items;
  auto trial = [&](std::size_t t, std::size_t b) {
    RunOptions options;
    options.threads = t;
    options.batch_size = b;
    options.max_items = grid.sample_items;
    return flow.run(context, options).items_per_second();
  };
  trial(threads.front(), grid.batch_sizes.front());  // warm-up: caches, pools, page faults
  for (std::size_t t : threads) {
    for (std::size_t b : grid.batch_sizes) {
      TuneTrial row{t, b, 0, {}};
      for (std::size_t r = 0; r < grid.repetitions; ++r) row.runs.push_back(trial(t, b));
      row.items_per_second = median(row.runs);
      result.table.push_back(std::move(row));
    }
  }
  double fastest = 0;
  for (const auto& row : result.table) fastest = std::max(fastest, row.items_per_second);
  const TuneTrial* chosen = nullptr;
  for (const auto& row : result.table) {
    if (row.items_per_second < fastest * (1 - grid.tolerance)) continue;
    if (!chosen || row.threads < chosen->threads ||
        (row.threads == chosen->threads && row.batch_size < chosen->batch_size))
      chosen = &row;
  }
  result.threads = chosen->threads;
  result.batch_size = chosen->batch_size;
  result.items_per_second = chosen->items_per_second;
  return result;
}

TuneResult tune(Flow& flow, const TuneGrid& grid) {
  Context none;
  return tune(flow, none, grid);
}

std::ostream& operator<<(std::ostream& os, const TuneResult& r) {
  fmt::print(os, "tuned on {} items per source per trial: {} threads, batch {} ({:.0f} items/s)\n",
             r.sample_items, r.threads, r.batch_size, r.items_per_second);
  fmt::print(os, "  {:>7} {:>7} {:>14}  runs\n", "threads", "batch", "median items/s");
  for (const auto& row : r.table) {
    fmt::print(os, "  {:>7} {:>7} {:>14.0f} ", row.threads, row.batch_size, row.items_per_second);
    for (double run : row.runs) fmt::print(os, " {:.0f}", run);
    const bool chosen = row.threads == r.threads && row.batch_size == r.batch_size;
    fmt::print(os, "{}\n", chosen ? "  <- chosen" : "");
  }
  return os;
}

}  // namespace aetherflow
