#pragma once
// A main() for benchmark binaries that, after the usual Google Benchmark output, prints each
// declared ratio between two benchmarks of the same run ("AetherFlow is 40x the TBB graph").
// Performance goals are ratios against a baseline measured in the same run, never absolute
// numbers.

#include <string>
#include <vector>

namespace aetherflow::bench {

struct Ratio {
  std::string label;
  std::string numerator;    // benchmark name, as Google Benchmark reports it
  std::string denominator;  // the baseline
  double goal = 0;          // printed beside the measured ratio; 0: no goal
};

// Runs the registered benchmarks and prints the ratios; returns the process exit code.
int run_with_ratios(int argc, char** argv, const std::vector<Ratio>& ratios);

}  // namespace aetherflow::bench
