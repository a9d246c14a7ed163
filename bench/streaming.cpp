// Streaming speed, on a generated text file that fits the page cache, in one run:
//   (a) hand-written: read() into a 1 MiB buffer + memchr, counting lines and bytes
//   (b) AetherFlow: read_lines -> count sink
//   (b') the same with a progress callback attached: the cost of progress reports
//   (c) AetherFlow word count (read_lines -> tokenise into per_thread tables, merged at the end)
//       at 1 and 2 threads, against the same word count hand-written single-threaded
// Goals: (b) >= 0.5x (a); (c) at 2 threads >= 1.6x its hand-written twin.
//
//   build/release/bench/bench_streaming [--benchmark_repetitions=3]
//   AETHERFLOW_BENCH_MB=256 sets the file size (default 256 MiB).

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <benchmark/benchmark.h>

#include <examples/support/words.hpp>
#include <flow/aetherflow.hpp>
#include <scripts/datagen.hpp>

#include "support/hand_read_lines.hpp"
#include "support/ratio_main.hpp"

namespace {

using aetherflow::bench::hand_read_lines;
using aetherflow::examples::count_words;
using aetherflow::examples::WordCounts;

// The generated input, made once per process, removed at exit.
const std::string& input() {
  static const struct File {
    std::string path;
    File() {
      const char* mb = std::getenv("AETHERFLOW_BENCH_MB");
      const std::uint64_t bytes = (mb ? std::strtoull(mb, nullptr, 10) : 256) << 20;
      path = (std::filesystem::temp_directory_path() /
              ("aetherflow_bench_" + std::to_string(::getpid()) + ".txt"))
                 .string();
      aetherflow::datagen::write_file(path, aetherflow::datagen::Kind::text, bytes);
    }
    ~File() { std::filesystem::remove(path); }
  } file;
  return file.path;
}

std::uint64_t file_size() {
  return std::filesystem::file_size(input());
}

void Hand_CountLines(benchmark::State& state) {
  for (auto _ : state) {
    std::uint64_t lines = 0, bytes = 0;
    hand_read_lines(input(), [&](std::string_view line) {
      ++lines;
      bytes += line.size() + 1;
    });
    benchmark::DoNotOptimize(lines);
    benchmark::DoNotOptimize(bytes);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file_size()));
}

// range(0): threads; range(1): 1 to report progress (to a callback that does nothing).
void AetherFlow_CountLines(benchmark::State& state) {
  std::uint64_t lines = 0, bytes = 0;
  aetherflow::Flow flow("count_lines");
  auto source = flow.source("lines", aetherflow::read_lines(input()));
  auto count = flow.node("count", [&](std::string_view line) {
    ++lines;
    bytes += line.size() + 1;
  });
  source >> count;
  for (auto _ : state) {
    lines = bytes = 0;
    aetherflow::RunOptions options{.threads = static_cast<std::size_t>(state.range(0)),
                                   .batch_size = 4096};
    if (state.range(1)) options.progress = [](const aetherflow::Progress&) {};
    flow.run(options);
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file_size()));
}

void Hand_WordCount(benchmark::State& state) {
  for (auto _ : state) {
    WordCounts counts;
    hand_read_lines(input(), [&](std::string_view line) { count_words(line, counts); });
    benchmark::DoNotOptimize(counts.size());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file_size()));
}

void AetherFlow_WordCount(benchmark::State& state) {
  aetherflow::Flow flow("word_count");
  auto source = flow.source("lines", aetherflow::read_lines(input()));
  auto count = flow.node("count", count_words, {.concurrency = aetherflow::unlimited});
  source >> count;
  for (auto _ : state) {
    aetherflow::Context ctx;
    ctx.per_thread<WordCounts>();
    flow.run(ctx, {.threads = static_cast<std::size_t>(state.range(0)), .batch_size = 1024});
    const WordCounts total = ctx.combine<WordCounts>(aetherflow::examples::merge);
    benchmark::DoNotOptimize(total.size());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file_size()));
}

}  // namespace

BENCHMARK(Hand_CountLines)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(AetherFlow_CountLines)
    ->ArgNames({"threads", "progress"})
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(Hand_WordCount)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(AetherFlow_WordCount)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

int main(int argc, char** argv) {
  input();  // generate the file now, outside every timed loop
  return aetherflow::bench::run_with_ratios(
      argc, argv,
      {{"(b) read_lines->count / (a) hand loop, 1 thr",
        "AetherFlow_CountLines/threads:1/progress:0/real_time", "Hand_CountLines/real_time", 0.5},
       {"(b) read_lines->count / (a) hand loop, 2 thr",
        "AetherFlow_CountLines/threads:2/progress:0/real_time", "Hand_CountLines/real_time", 0.5},
       {"progress reports on / off, read_lines->count",
        "AetherFlow_CountLines/threads:1/progress:1/real_time",
        "AetherFlow_CountLines/threads:1/progress:0/real_time", 0},
       {"(c) word count 1 thread / hand-written", "AetherFlow_WordCount/threads:1/real_time",
        "Hand_WordCount/real_time", 0},
       {"(c) word count 2 threads / hand-written", "AetherFlow_WordCount/threads:2/real_time",
        "Hand_WordCount/real_time", 1.6}});
}
