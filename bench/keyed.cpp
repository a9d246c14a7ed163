// Keyed aggregation at scale: a word count over a generated high-cardinality text (about 400
// MiB, millions of distinct words with Zipf-like frequencies: datagen's `words`), end to end
// including the result (the top 10), in one run:
//   (a) hand-written, single-threaded: read() in 1 MiB blocks + memchr for lines, an
//       std::unordered_map<std::string, std::uint64_t> with transparent string_view lookups
//   (b) AetherFlow keyed: read_lines -> split words -> count_by -> top_k(10), at 1 and 2
//       threads (and every core of the machine)
//   (c) AetherFlow per_thread tables merged with ctx.combine: what users wrote before (b)
// and the same on the low-cardinality text of bench_streaming, so that neither regresses.
//   (b') the same at 2 threads with the batch size the run chooses, and with 2, 4 and 32
//       shards instead of the default 16
// Goals: (b) at 2 threads >= 1.8x (a), at 1 thread >= 0.9x (a); then peak RSS of (b) at 2
// threads <= 1.3x that of (a), each run once more in a child process of its own (not with
// AETHERFLOW_BENCH_QUICK, the smoke test's setting).
//
//   build/release/bench/bench_keyed [--benchmark_repetitions=3]
//   AETHERFLOW_BENCH_MB=400 sets each file's size (default 400 MiB).

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <examples/support/words.hpp>
#include <flow/aetherflow.hpp>
#include <scripts/datagen.hpp>

#include "support/hand_read_lines.hpp"
#include "support/ratio_main.hpp"

namespace {

using aetherflow::bench::hand_read_lines;
using aetherflow::examples::count_words;
using aetherflow::examples::WordCounts;
using Counted = std::pair<std::string, std::uint64_t>;
using Top = std::vector<Counted>;
constexpr std::size_t kTop = 10;
// Lines per batch, as bench_streaming fixes it too: the size the run chooses (about 50 lines
// here, for 50 us per call) is smaller than a keyed node wants; docs/performance.md has both.
constexpr std::size_t kBatch = 4096;

// The generated inputs, made once per process, removed at exit: 0 many distinct words,
// 1 the low-cardinality text of bench_streaming.
const std::string& input(std::int64_t which) {
  struct File {
    std::string path;
    File(const char* name, aetherflow::datagen::Kind kind) {
      const char* mb = std::getenv("AETHERFLOW_BENCH_MB");
      const std::uint64_t bytes = (mb ? std::strtoull(mb, nullptr, 10) : 400) << 20;
      path = (std::filesystem::temp_directory_path() /
              fmt::format("aetherflow_bench_{}_{}.txt", name, ::getpid()))
                 .string();
      aetherflow::datagen::write_file(path, kind, bytes);
    }
    ~File() { std::filesystem::remove(path); }
  };
  static const File words("words", aetherflow::datagen::Kind::words);
  static const File text("text", aetherflow::datagen::Kind::text);
  return which == 0 ? words.path : text.path;
}

// The result every variant produces: the kTop most frequent words, ties by word.
Top top_of(const WordCounts& counts) {
  Top top;
  for (const auto& [word, n] : counts) {
    top.emplace_back(word, n);
    std::push_heap(top.begin(), top.end(), [](const Counted& a, const Counted& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (top.size() > kTop) {
      std::pop_heap(top.begin(), top.end(), [](const Counted& a, const Counted& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
      });
      top.pop_back();
    }
  }
  return top;
}

Top hand_word_count(const std::string& path) {
  WordCounts counts;
  hand_read_lines(path, [&](std::string_view line) { count_words(line, counts); });
  return top_of(counts);
}

// `shards`: 0 for the node's default; `batch`: 0 for the size the run chooses.
Top keyed_word_count(const std::string& path, std::size_t threads, std::size_t batch = kBatch,
                     std::size_t shards = 0) {
  Top top;
  aetherflow::Flow flow("keyed_word_count");
  auto lines = flow.source("lines", aetherflow::read_lines(path));
  auto words =
      flow.node("split", aetherflow::examples::split_words<aetherflow::Emitter<std::string_view>>);
  auto count =
      flow.node("count", aetherflow::count_by([](std::string_view w) { return w; }).shards(shards));
  auto best = flow.node("top", aetherflow::top_k<Counted>(kTop));
  lines >> words >> count >> best >> flow.node("keep", aetherflow::collect(top));
  flow.run({.threads = threads, .batch_size = batch});
  return top;
}

Top per_thread_word_count(const std::string& path, std::size_t threads) {
  aetherflow::Flow flow("per_thread_word_count");
  auto lines = flow.source("lines", aetherflow::read_lines(path));
  auto count = flow.node("count", count_words, {.concurrency = aetherflow::unlimited});
  lines >> count;
  aetherflow::Context ctx;
  ctx.per_thread<WordCounts>();
  flow.run(ctx, {.threads = threads, .batch_size = kBatch});
  return top_of(ctx.combine<WordCounts>(aetherflow::examples::merge));
}

void set_bytes(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<std::int64_t>(
      state.iterations() * std::filesystem::file_size(input(state.range(0)))));
}

// range(0): the input (0 many distinct words, 1 few); range(1): threads.
void Hand_WordCount(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(hand_word_count(input(state.range(0))));
  set_bytes(state);
}
void Keyed_WordCount(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(
        keyed_word_count(input(state.range(0)), static_cast<std::size_t>(state.range(1))));
  set_bytes(state);
}
// The keyed count's settings, many keys, 2 threads: range(0) lines per batch (0: chosen by
// the run), range(1) shards (0: the default, 8 per thread).
void Keyed_WordCountSettings(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(keyed_word_count(input(0), 2, static_cast<std::size_t>(state.range(0)),
                                              static_cast<std::size_t>(state.range(1))));
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * std::filesystem::file_size(input(0))));
}
void PerThread_WordCount(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(
        per_thread_word_count(input(state.range(0)), static_cast<std::size_t>(state.range(1))));
  set_bytes(state);
}

std::int64_t cores() {
  return std::max<std::int64_t>(1, std::thread::hardware_concurrency());
}

void Arguments(benchmark::internal::Benchmark* b) {
  b->ArgNames({"input", "threads"});
  for (std::int64_t in : {0, 1}) {
    b->Args({in, 1})->Args({in, 2});
    if (cores() > 2) b->Args({in, cores()});
  }
}

// Peak RSS in kB of `run` in a child process of its own.
long peak_rss_kb(const std::function<void()>& run) {
  const pid_t child = ::fork();
  if (child == 0) {
    run();
    std::_Exit(0);
  }
  int status = 0;
  rusage usage{};
  ::wait4(child, &status, 0, &usage);
  return usage.ru_maxrss;
}

void compare_rss() {
  const std::string& path = input(0);
  const long hand = peak_rss_kb([&] { hand_word_count(path); });
  const long keyed = peak_rss_kb([&] { keyed_word_count(path, 2); });
  const long per_thread = peak_rss_kb([&] { per_thread_word_count(path, 2); });
  auto row = [&](const char* what, long kb, const char* goal) {
    const double ratio = static_cast<double>(kb) / static_cast<double>(hand);
    aetherflow::bench::print_result(
        fmt::format("peak RSS {}: {} MiB, {:.2f}x the hand loop's {} MiB", what, kb >> 10, ratio,
                    hand >> 10),
        fmt::format("| peak RSS {} / hand loop ({} / {} MiB) | {:.2f}x | {} | |", what, kb >> 10,
                    hand >> 10, ratio, goal));
  };
  row("keyed, 2 threads", keyed, "<= 1.3x");
  row("per_thread + combine, 2 threads", per_thread, "");
}

}  // namespace

BENCHMARK(Hand_WordCount)
    ->ArgNames({"input", "threads"})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(Keyed_WordCount)->Apply(Arguments)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(Keyed_WordCountSettings)
    ->ArgNames({"batch", "shards"})
    ->Args({0, 0})
    ->Args({static_cast<std::int64_t>(kBatch), 2})
    ->Args({static_cast<std::int64_t>(kBatch), 4})
    ->Args({static_cast<std::int64_t>(kBatch), 32})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(PerThread_WordCount)
    ->ArgNames({"input", "threads"})
    ->Args({0, 2})
    ->Args({1, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

int main(int argc, char** argv) {
  // The peak RSS comparison runs each variant once more: skipped by the smoke test.
  const bool rss = std::getenv("AETHERFLOW_BENCH_QUICK") == nullptr;
  input(0);  // generate the files now, outside every timed loop
  input(1);
  const std::string all = fmt::format("Keyed_WordCount/input:0/threads:{}/real_time", cores());
  std::vector<aetherflow::bench::Ratio> ratios{
      {"keyed word count, many keys, 1 thread / hand loop",
       "Keyed_WordCount/input:0/threads:1/real_time", "Hand_WordCount/input:0/threads:1/real_time",
       0.9},
      {"keyed word count, many keys, 2 threads / hand loop",
       "Keyed_WordCount/input:0/threads:2/real_time", "Hand_WordCount/input:0/threads:1/real_time",
       1.8},
      {"per_thread + combine, many keys, 2 threads / hand loop",
       "PerThread_WordCount/input:0/threads:2/real_time",
       "Hand_WordCount/input:0/threads:1/real_time", 0},
      {"keyed word count, few keys, 1 thread / hand loop",
       "Keyed_WordCount/input:1/threads:1/real_time", "Hand_WordCount/input:1/threads:1/real_time",
       0},
      {"keyed word count, few keys, 2 threads / hand loop",
       "Keyed_WordCount/input:1/threads:2/real_time", "Hand_WordCount/input:1/threads:1/real_time",
       0},
      {"per_thread + combine, few keys, 2 threads / hand loop",
       "PerThread_WordCount/input:1/threads:2/real_time",
       "Hand_WordCount/input:1/threads:1/real_time", 0}};
  if (cores() > 2)
    ratios.push_back({fmt::format("keyed word count, many keys, {} threads / hand loop", cores()),
                      all, "Hand_WordCount/input:0/threads:1/real_time", 0});
  const int rc = aetherflow::bench::run_with_ratios(argc, argv, ratios);
  if (rss) compare_rss();
  return rc;
}
