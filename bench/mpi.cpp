// Distributed runs over Open MPI (docs/distributed.md), under `mpirun -np 2` on one machine
// (scripts/run-benchmarks.sh starts it so), in one run:
//   (a) bench_keyed's keyed word count (its input: datagen's `words`, about 400 MiB), in one
//       process with 2 threads, on rank 0 while rank 1 waits;
//   (b) the same flow on 2 ranks of 1 thread each, every word sent to the rank that owns it;
//   (c) the exchange alone: rank 0 sends 256 MiB of 16-byte items to rank 1 through an
//       Exchange (batched, serialized, read back into items on rank 1);
//   (d) the same bytes in MPI_Send / MPI_Recv of the Exchange's message size, the baseline.
// Goals: (b) >= 0.85x (a); (c) >= 1 GB/s and >= 0.5x (d).
//
//   tests/mpi/mpirun.sh 2 600 build/release/bench/bench_mpi
//   AETHERFLOW_BENCH_MB=400 sets the word count's input size (default 400 MiB).
//
// Every benchmark runs a fixed number of iterations, so that both ranks make the same
// collective calls; rank 0 reports.

#include <mpi.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <examples/support/words.hpp>
#include <flow/aetherflow.hpp>
#include <flow/exchange.hpp>
#include <flow/mpi/session.hpp>
#include <scripts/datagen.hpp>

#include "support/ratio_main.hpp"

namespace {

std::shared_ptr<aetherflow::Cluster> cluster;  // set by main
using Counted = std::pair<std::string, std::uint64_t>;

bool quick() {
  return std::getenv("AETHERFLOW_BENCH_QUICK") != nullptr;
}
void barrier() {
  cluster->all_gather({});
}

// bench_keyed's input, written once by rank 0 where every rank reads it (one machine).
const std::string& input() {
  struct File {
    std::string path;
    File() {
      const char* mb = std::getenv("AETHERFLOW_BENCH_MB");
      const std::uint64_t bytes = (mb ? std::strtoull(mb, nullptr, 10) : 400) << 20;
      aetherflow::Bytes mine;
      if (cluster->rank() == 0) {
        path = (std::filesystem::temp_directory_path() /
                fmt::format("aetherflow_bench_mpi_words_{}.txt", ::getpid()))
                   .string();
        aetherflow::datagen::write_file(path, aetherflow::datagen::Kind::words, bytes);
        const auto* b = reinterpret_cast<const std::byte*>(path.data());
        mine.assign(b, b + path.size());
      }
      const auto all = cluster->all_gather(mine);
      path.assign(reinterpret_cast<const char*>(all[0].data()), all[0].size());
    }
    ~File() {
      if (cluster && cluster->rank() == 0) std::filesystem::remove(path);
    }
  };
  static const File file;
  return file.path;
}

std::vector<Counted> keyed_word_count(std::size_t threads,
                                      std::shared_ptr<aetherflow::Cluster> on) {
  std::vector<Counted> top;
  aetherflow::Flow flow("keyed_word_count");
  flow.source("lines", aetherflow::read_lines(input())) >>
      flow.node("split",
                aetherflow::examples::split_words<aetherflow::Emitter<std::string_view>>) >>
      flow.node("count", aetherflow::count_by([](std::string_view w) { return w; })) >>
      flow.node("top", aetherflow::top_k<Counted>(10)) >>
      flow.node("keep", aetherflow::collect(top), {.gathered = true});
  flow.run({.threads = threads, .batch_size = 4096, .cluster = std::move(on)});
  return top;
}

void set_bytes(benchmark::State& state, std::uint64_t bytes) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

// (a): rank 0 alone, 2 threads; the other ranks wait for it.
void WordCount_OneProcessTwoThreads(benchmark::State& state) {
  const std::string& path = input();
  for (auto _ : state) {
    if (cluster->rank() == 0) benchmark::DoNotOptimize(keyed_word_count(2, nullptr));
    barrier();
  }
  set_bytes(state, std::filesystem::file_size(path));
}

// (b): every rank, 1 thread each.
void WordCount_TwoRanksOneThread(benchmark::State& state) {
  const std::string& path = input();
  for (auto _ : state) benchmark::DoNotOptimize(keyed_word_count(1, cluster));
  set_bytes(state, std::filesystem::file_size(path));
}

struct Item {
  std::uint64_t key, value;
};
constexpr std::size_t kItemsPerAdd = 4096;

std::uint64_t exchange_bytes() {
  return (quick() ? std::uint64_t{16} : std::uint64_t{256}) << 20;
}

// (c): rank 0 to rank 1 through an Exchange; every rank but those two waits.
void Exchange_RankZeroToOne(benchmark::State& state) {
  std::vector<Item> items(kItemsPerAdd);
  for (std::size_t i = 0; i < items.size(); ++i) items[i] = {i, i * 3};
  const std::uint64_t adds = exchange_bytes() / (kItemsPerAdd * sizeof(Item));
  std::atomic<bool> stop{false};
  for (auto _ : state) {
    {
      aetherflow::Exchange exchange({cluster.get(), cluster->rank(), cluster->size(), 4000, &stop});
      barrier();  // every rank's channel is open before anything is sent
      if (cluster->rank() == 0) {
        for (std::uint64_t k = 0; k < adds; ++k)
          exchange.add(1, items.size(),
                       [&](aetherflow::Bytes& b) { aetherflow::wire_write(b, items); }, {});
        exchange.end_stream({});
      } else if (cluster->rank() == 1) {
        std::vector<Item> got;
        while (!exchange.ended(0)) {
          if (auto m = exchange.take(0)) {
            got.clear();
            aetherflow::wire_read(*m->bytes, m->offset, m->items, got);
            benchmark::DoNotOptimize(got.data());
          } else {
            exchange.wait(std::chrono::milliseconds(1), 0);
          }
        }
      }
      barrier();  // rank 1 has every item
    }
  }
  set_bytes(state, adds * kItemsPerAdd * sizeof(Item));
}

// (d): the same bytes, MPI_Send and MPI_Recv of the Exchange's message size.
void RawMpi_RankZeroToOne(benchmark::State& state) {
  const aetherflow::ExchangeLimits limits;
  const std::size_t message = limits.batch_bytes;
  std::vector<std::byte> buffer(message);
  const std::uint64_t messages = exchange_bytes() / message;
  for (auto _ : state) {
    barrier();
    const int rank = static_cast<int>(cluster->rank());
    for (std::uint64_t k = 0; k < messages; ++k) {
      if (rank == 0)
        MPI_Send(buffer.data(), static_cast<int>(message), MPI_BYTE, 1, 77, MPI_COMM_WORLD);
      else if (rank == 1)
        MPI_Recv(buffer.data(), static_cast<int>(message), MPI_BYTE, 0, 77, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    }
    barrier();
  }
  set_bytes(state, messages * message);
}

constexpr int kWordCountIterations = 2, kExchangeIterations = 5;
int iterations(int wanted) {
  return quick() ? 1 : wanted;
}
// The name Google Benchmark reports a fixed-iteration run by.
std::string run_name(const char* bench, int wanted) {
  return fmt::format("{}/iterations:{}/real_time", bench, iterations(wanted));
}
void Fixed(benchmark::internal::Benchmark* b, int wanted) {
  b->Iterations(iterations(wanted))->UseRealTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK(WordCount_OneProcessTwoThreads)->Apply([](auto* b) { Fixed(b, kWordCountIterations); });
BENCHMARK(WordCount_TwoRanksOneThread)->Apply([](auto* b) { Fixed(b, kWordCountIterations); });
BENCHMARK(Exchange_RankZeroToOne)->Apply([](auto* b) { Fixed(b, kExchangeIterations); });
BENCHMARK(RawMpi_RankZeroToOne)->Apply([](auto* b) { Fixed(b, kExchangeIterations); });

// Rank 0 reports; the others run the same benchmarks without a word.
class Silent final : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  // The baseline calls MPI from the main thread, beside the session's own thread.
  aetherflow::mpi::Session mpi(argc, argv, aetherflow::mpi::Threads::multiple);
  cluster = mpi.cluster();
  if (mpi.size() < 2) {
    std::fprintf(stderr, "bench_mpi: run it under mpirun -np 2 (tests/mpi/mpirun.sh 2 600 ...)\n");
    return 2;
  }
  // Every rank runs the benchmarks in their declared order: no random interleaving, which
  // would give each rank its own order of collective calls.
  std::vector<char*> args(argv, argv + argc);
  char in_order[] = "--benchmark_enable_random_interleaving=false";
  args.push_back(in_order);
  int count = static_cast<int>(args.size());
  int code = 0;
  if (mpi.rank() == 0) {
    code = aetherflow::bench::run_with_ratios(
        count, args.data(),
        {{"keyed word count, 2 ranks x 1 thread / 1 process x 2 threads",
          run_name("WordCount_TwoRanksOneThread", kWordCountIterations),
          run_name("WordCount_OneProcessTwoThreads", kWordCountIterations), 0.85},
         {"exchange, 2 ranks / MPI_Send+MPI_Recv of the same bytes",
          run_name("Exchange_RankZeroToOne", kExchangeIterations),
          run_name("RawMpi_RankZeroToOne", kExchangeIterations), 0.5}},
        [](const aetherflow::bench::Counters& counters) {
          for (const auto& [name, values] : counters)
            if (name.starts_with("Exchange_RankZeroToOne"))
              aetherflow::bench::print_result(
                  fmt::format("exchange throughput: {:.2f} GB/s",
                              values.at("bytes_per_second") / 1e9),
                  fmt::format("| exchange throughput, 2 ranks | {:.2f} GB/s | >= 1 GB/s | |",
                              values.at("bytes_per_second") / 1e9));
        });
  } else {
    benchmark::Initialize(&count, args.data());
    Silent silent;
    benchmark::RunSpecifiedBenchmarks(&silent);
  }
  cluster.reset();
  return code;
}
