#pragma once
// A main() for benchmark binaries that, after the usual Google Benchmark output, prints each
// declared ratio between two benchmarks of the same run ("AetherFlow is 40x the TBB graph").
// Performance goals are ratios against a baseline measured in the same run, never absolute
// numbers. With AETHERFLOW_BENCH_MARKDOWN=<file> set, the ratios are also appended to that
// file as markdown table rows (scripts/run-benchmarks.sh collects them for
// docs/performance.md).

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace aetherflow::bench {

struct Ratio {
  std::string label;
  std::string numerator;    // benchmark name, as Google Benchmark reports it
  std::string denominator;  // the baseline
  double goal = 0;          // printed beside the measured ratio; 0: no goal
};

// Every counter of every benchmark run (the median, with repetitions), by run name then
// counter name ("items_per_second", or a benchmark's own).
using Counters = std::map<std::string, std::map<std::string, double>>;

// Runs the registered benchmarks and prints the ratios, then calls `report` (if given) with
// every counter, for figures a ratio cannot express; returns the process exit code.
int run_with_ratios(int argc, char** argv, const std::vector<Ratio>& ratios,
                    const std::function<void(const Counters&)>& report = {});

// Prints `text` as a line of the console output, and appends `row` to the markdown file when
// AETHERFLOW_BENCH_MARKDOWN is set.
void print_result(const std::string& text, const std::string& row);

}  // namespace aetherflow::bench
