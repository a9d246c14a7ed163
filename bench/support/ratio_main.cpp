#include "ratio_main.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

#include <benchmark/benchmark.h>

namespace aetherflow::bench {
namespace {

// Console output as usual, and each benchmark's counters kept for the ratios.
class CounterCollector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.run_type != Run::RT_Iteration && run.aggregate_name != "median") continue;
      for (const auto& [name, counter] : run.counters) counters[run.run_name.str()][name] = counter;
    }
  }
  Counters counters;
};

// Items per second where the benchmark counts items, else bytes per second; 0 if neither.
double rate_of(const Counters& counters, const std::string& run) {
  const auto it = counters.find(run);
  if (it == counters.end()) return 0;
  for (const char* rate : {"items_per_second", "bytes_per_second"})
    if (const auto c = it->second.find(rate); c != it->second.end()) return c->second;
  return 0;
}

}  // namespace

void print_result(const std::string& text, const std::string& row) {
  std::printf("%s\n", text.c_str());
  if (const char* path = std::getenv("AETHERFLOW_BENCH_MARKDOWN"); path && *path)
    std::ofstream(path, std::ios::app) << row << "\n";
}

int run_with_ratios(int argc, char** argv, const std::vector<Ratio>& ratios,
                    const std::function<void(const Counters&)>& report) {
  // Repetitions of the benchmarks run in random order, so that a slow spell of a shared
  // machine falls on both sides of a ratio rather than on one. A later flag may turn it off.
  std::vector<char*> args(argv, argv + argc);
  char interleave[] = "--benchmark_enable_random_interleaving=true";
  args.insert(args.begin() + 1, interleave);
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  CounterCollector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::Shutdown();

  std::printf("\n%-48s %12s %8s\n", "ratio (items/s or bytes/s, same run)", "measured", "goal");
  for (const auto& r : ratios) {
    const double num = rate_of(collector.counters, r.numerator);
    const double den = rate_of(collector.counters, r.denominator);
    if (num == 0 || den == 0) continue;
    const double ratio = num / den;
    char text[256], row[256];
    if (r.goal > 0) {
      const char* verdict = ratio >= r.goal ? "met" : "MISSED";
      std::snprintf(text, sizeof text, "%-48s %11.2fx %7.2fx %s", r.label.c_str(), ratio, r.goal,
                    verdict);
      std::snprintf(row, sizeof row, "| %s | %.2fx | %.2fx | %s |", r.label.c_str(), ratio, r.goal,
                    verdict);
    } else {
      std::snprintf(text, sizeof text, "%-48s %11.2fx %8s", r.label.c_str(), ratio, "-");
      std::snprintf(row, sizeof row, "| %s | %.2fx | - | |", r.label.c_str(), ratio);
    }
    print_result(text, row);
  }
  if (report) report(collector.counters);
  return 0;
}

}  // namespace aetherflow::bench
