#include "ratio_main.hpp"

#include <cstdio>
#include <map>
#include <vector>

#include <benchmark/benchmark.h>

namespace aetherflow::bench {
namespace {

// Console output as usual, and each benchmark's items per second kept for the ratios.
class RateCollector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.run_type != Run::RT_Iteration && run.aggregate_name != "median") continue;
      // Items per second where the benchmark counts items, else bytes per second.
      for (const char* rate : {"items_per_second", "bytes_per_second"}) {
        const auto it = run.counters.find(rate);
        if (it == run.counters.end()) continue;
        rates[run.run_name.str()] = it->second.value;
        break;
      }
    }
  }
  std::map<std::string, double> rates;
};

}  // namespace

int run_with_ratios(int argc, char** argv, const std::vector<Ratio>& ratios) {
  // Repetitions of the benchmarks run in random order, so that a slow spell of a shared
  // machine falls on both sides of a ratio rather than on one. A later flag may turn it off.
  std::vector<char*> args(argv, argv + argc);
  char interleave[] = "--benchmark_enable_random_interleaving=true";
  args.insert(args.begin() + 1, interleave);
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  RateCollector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::Shutdown();

  std::printf("\n%-48s %12s %8s\n", "ratio (items/s or bytes/s, same run)", "measured", "goal");
  for (const auto& r : ratios) {
    const auto num = collector.rates.find(r.numerator);
    const auto den = collector.rates.find(r.denominator);
    if (num == collector.rates.end() || den == collector.rates.end() || den->second == 0) continue;
    const double ratio = num->second / den->second;
    if (r.goal > 0)
      std::printf("%-48s %11.2fx %7.2fx %s\n", r.label.c_str(), ratio, r.goal,
                  ratio >= r.goal ? "met" : "MISSED");
    else
      std::printf("%-48s %11.2fx %8s\n", r.label.c_str(), ratio, "-");
  }
  return 0;
}

}  // namespace aetherflow::bench
