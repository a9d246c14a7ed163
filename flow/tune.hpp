#pragma once
// Choosing threads and batch size by measuring (docs/performance.md):
//
//   aetherflow::TuneResult best = aetherflow::tune(flow, context, {.batch_sizes = {64, 256,
//   1024}}); std::cout << best;                          // the measured table, the choice marked
//   flow.run(context, best.options());          // threads and batch size as chosen
//
// Every configuration of the grid runs the real flow on a sample of the input (the first
// `sample_items` of each source, RunOptions::max_items), `repetitions` times; its median
// items per second is what counts. Nothing is estimated. The flow's sinks see every trial's
// items, so tune a flow whose sinks can take repeated runs.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <vector>

#include <contexts/context.hpp>
#include <flow/flow.hpp>
#include <flow/options.hpp>

namespace aetherflow {

struct TuneGrid {
  std::vector<std::size_t> threads = {};  // empty: 1, 2, 4, ... up to every core, and every core
  std::vector<std::size_t> batch_sizes = {64, 256, 1024, 4096};
  std::uint64_t sample_items = 100'000;  // per source, per trial
  std::size_t repetitions = 3;           // trials per configuration; the median counts
  // Configurations within this fraction of the fastest count as fast: of those, the one with
  // the fewest threads, then the smallest batch (lower latency), is chosen.
  double tolerance = 0.03;
};

struct TuneTrial {
  std::size_t threads = 0;
  std::size_t batch_size = 0;
  double items_per_second = 0;  // the median of `runs`
  std::vector<double> runs;     // items per second of each repetition
};

struct TuneResult {
  std::size_t threads = 0;
  std::size_t batch_size = 0;
  double items_per_second = 0;
  std::vector<TuneTrial> table;  // every configuration, in grid order
  std::uint64_t sample_items = 0;

  // RunOptions with the chosen threads and batch size.
  RunOptions options() const;
};

// Runs the trials; Error (naming the grid's problem) for an empty grid, a zero thread count,
// batch size or sample. A trial that fails throws its NodeError.
TuneResult tune(Flow& flow, Context& context, const TuneGrid& grid = {});
TuneResult tune(Flow& flow, const TuneGrid& grid = {});

// The table, one line per configuration, the choice marked.
std::ostream& operator<<(std::ostream& os, const TuneResult& result);

}  // namespace aetherflow
