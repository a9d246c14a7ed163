// Live-stream latency: a generator yields one timestamped item on schedule (spinning until
// the item is due, at 1 k, 10 k and 100 k items/s), through two trivial nodes into a sink
// that records each item's end-to-end latency (its creation to the sink's call), on 2
// threads. At the defaults (RunOptions::max_batch_delay, the chosen batch size) against the
// latency bound switched off, and a fixed batch of 1, in the same run.
//
//   build/release/bench/bench_latency
//
// The goals (issue 19) are absolute latencies, printed beside the table as met or missed.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <flow/aetherflow.hpp>

#include "support/ratio_main.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// Seconds of stream per configuration: 5 s (0.05 s for the smoke test).
double stream_seconds() {
  return std::getenv("AETHERFLOW_BENCH_QUICK") ? 0.05 : 2.0;
}

enum Mode : std::int64_t { defaults = 0, bound_off = 1, batch_of_one = 2 };

// Latencies in microseconds of one stream at `rate` items/s, sorted.
std::vector<double> stream(std::int64_t rate, Mode mode) {
  const auto items = static_cast<std::size_t>(std::max(1000.0, stream_seconds() * rate));
  std::vector<double> latency(items);
  std::atomic<std::size_t> sunk{0};
  aetherflow::Flow flow("live");
  const std::int64_t gap = 1'000'000'000 / rate;
  flow.source("ticks",
              [items, gap, start = std::int64_t{0},
               i = std::size_t{0}]() mutable -> std::optional<std::int64_t> {
                if (i == items) return std::nullopt;
                if (i == 0) start = now_ns();
                const std::int64_t due = start + static_cast<std::int64_t>(i++) * gap;
                std::int64_t t = now_ns();
                while (t < due) t = now_ns();
                return t;
              }) >>
      flow.node("parse", [](std::int64_t t) { return t; }) >>
      flow.node("enrich", [](std::int64_t t) { return t; }) >>
      flow.node("sink", [&](std::int64_t created) {
        latency[sunk.fetch_add(1, std::memory_order_relaxed)] =
            static_cast<double>(now_ns() - created) / 1000.0;
      });
  aetherflow::RunOptions options{.threads = 2};
  if (mode == bound_off) options.max_batch_delay = 0us;
  if (mode == batch_of_one) options.batch_size = 1;
  flow.run(options);
  std::sort(latency.begin(), latency.end());
  return latency;
}

double quantile(const std::vector<double>& sorted, double q) {
  return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(q * sorted.size()))];
}

void Latency(benchmark::State& state) {
  const std::int64_t rate = state.range(0);
  const auto mode = static_cast<Mode>(state.range(1));
  std::vector<double> latency;
  for (auto _ : state) latency = stream(rate, mode);
  state.counters["p50_us"] = quantile(latency, 0.50);
  state.counters["p99_us"] = quantile(latency, 0.99);
  state.counters["p999_us"] = quantile(latency, 0.999);
  state.counters["max_us"] = latency.back();
  state.SetItemsProcessed(static_cast<std::int64_t>(latency.size()));
}

const char* mode_name(std::int64_t mode) {
  return mode == defaults ? "defaults" : mode == bound_off ? "max_batch_delay off" : "fixed 1";
}

void print_table(const aetherflow::bench::Counters& counters) {
  aetherflow::bench::print_result(
      "arrival rate, batching: p50 / p99 / p99.9 / max (us); goals at the defaults: "
      "p99 <= 200, p99.9 <= 1000",
      "| arrival rate | batching | p50 | p99 | p99.9 | max | goals |\n"
      "| --- | --- | ---: | ---: | ---: | ---: | --- |");
  for (const auto& [name, c] : counters) {
    std::int64_t rate = 0, mode = 0;
    if (std::sscanf(name.c_str(), "Latency/%ld/%ld", &rate, &mode) != 2) continue;
    const double p99 = c.at("p99_us"), p999 = c.at("p999_us");
    const std::string goals =
        mode != defaults ? "" : (p99 <= 200 && p999 <= 1000 ? "met" : "MISSED");
    aetherflow::bench::print_result(
        fmt::format("{:>7} items/s, {:<20} {:8.1f} {:8.1f} {:8.1f} {:8.1f} {}", rate,
                    mode_name(mode), c.at("p50_us"), p99, p999, c.at("max_us"), goals),
        fmt::format("| {} k items/s | {} | {:.1f} us | {:.1f} us | {:.1f} us | {:.1f} us | {} |",
                    rate / 1000, mode_name(mode), c.at("p50_us"), p99, p999, c.at("max_us"),
                    goals));
  }
}

}  // namespace

BENCHMARK(Latency)
    ->ArgsProduct({{1'000, 10'000, 100'000}, {defaults, bound_off, batch_of_one}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

int main(int argc, char** argv) {
  return aetherflow::bench::run_with_ratios(argc, argv, {}, print_table);
}
