// Flows on a cluster of Open MPI ranks (docs/distributed.md), run by ctest under
// `mpirun -np 2` and `-np 4` (label mpi), and alone as one rank. Every rank runs every test in
// the same order; each compares the cluster run with the same flow run in this process alone.

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <ranges>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <flow/aetherflow.hpp>
#include <flow/mpi/session.hpp>
#include <tests/support/temp_file.hpp>

namespace aetherflow {
namespace {

std::shared_ptr<Cluster> cluster;  // set by main

std::size_t rank() {
  return cluster->rank();
}
std::size_t ranks() {
  return cluster->size();
}
void barrier() {
  cluster->all_gather({});
}

// A file every rank reads: rank 0 writes it, the others wait.
class SharedFile {
 public:
  SharedFile(const std::string& name, const std::string& content)
      : path_(::testing::TempDir() + "aetherflow_mpi_" + name) {
    if (rank() == 0) std::ofstream(path_, std::ios::binary) << content;
    barrier();
  }
  ~SharedFile() {
    barrier();
    if (rank() == 0) std::filesystem::remove(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

using Counts = std::map<std::uint64_t, std::uint64_t>;

// Keyed counts of a range, through a gathered sink: on rank 0 of a cluster, every key once.
Counts count_range(int n, const RunOptions& options, RunReport* report = nullptr) {
  Flow flow("keyed_range");
  std::vector<std::pair<std::uint64_t, std::uint64_t>> rows;
  flow.source("numbers", std::views::iota(0, n)) >>
      flow.node("count", count_by([](int x) { return static_cast<std::uint64_t>(x % 997); })) >>
      flow.node("keep", collect(rows), {.gathered = true});
  RunReport r = flow.run(options);
  if (report) *report = r;
  Counts counts;
  for (const auto& [key, count] : rows) {
    EXPECT_EQ(counts.count(key), 0u) << "key " << key << " twice";
    counts[key] += count;
  }
  return counts;
}

TEST(Cluster, KeyedCountsEqualOneProcess) {
  const Counts alone = count_range(200'000, {.threads = 2, .batch_size = 256});
  RunReport report;
  const Counts together =
      count_range(200'000, {.threads = 2, .batch_size = 256, .cluster = cluster}, &report);
  EXPECT_EQ(report.ranks, ranks());
  if (rank() != 0) {
    EXPECT_TRUE(together.empty()) << "a gathered sink consumes on rank 0 only";
    return;
  }
  EXPECT_EQ(together, alone);
  // Rank 0's report is the job's: every source item counted once, each key emitted once.
  EXPECT_EQ(report.node("numbers").out, 200'000u);
  EXPECT_EQ(report.node("count").in, 200'000u);
  EXPECT_EQ(report.node("count").out, 997u);
  EXPECT_EQ(report.node("count").sent, report.node("count").received);
  EXPECT_EQ(report.node("keep").out, 997u);
  // One rank is a run of one process: its report is its own.
  ASSERT_EQ(report.per_rank.size(), ranks() > 1 ? ranks() : 0);
  if (ranks() > 1) {
    EXPECT_GT(report.node("count").sent, 0u) << "keys owned by other ranks travel";
    std::uint64_t emitted = 0;
    for (const auto& r : report.per_rank) {
      EXPECT_GT(r.node("numbers").out, 0u) << "rank " << r.rank << " read a share";
      emitted += r.node("count").out;
    }
    EXPECT_EQ(emitted, 997u) << "each key has one owner";
  }
}

// The lines of a file in order, through an ordered gathered sink.
std::vector<std::string> lines_of(const std::string& path, const RunOptions& options) {
  Flow flow("lines");
  std::vector<std::string> lines;
  flow.source("read", read_lines(path, {.chunk_size = 64})) >>
      flow.node("copy", [](std::string_view line) { return std::string(line); }) >>
      flow.node("keep", collect(lines), {.ordered = true, .gathered = true});
  flow.run(options);
  return lines;
}

void expect_lines_equal_alone(const std::string& name, const std::string& content) {
  const SharedFile file(name, content);
  const auto alone = lines_of(file.path(), {.batch_size = 3});
  const auto together = lines_of(file.path(), {.batch_size = 3, .cluster = cluster});
  if (rank() == 0) {
    EXPECT_EQ(together, alone) << name;
  }
}

TEST(Cluster, FileLinesAreEachReadOnceAndGatheredInOrder) {
  std::string text;
  for (int i = 0; i < 1001; ++i) text += "line " + std::to_string(i * 7919 % 1000) + "\n";
  text += "last line without a newline";  // the size is no multiple of the rank count
  expect_lines_equal_alone("many_lines", text);
}

TEST(Cluster, FileWithFewerLinesThanRanks) {
  expect_lines_equal_alone("one_line", "only line\n");
  expect_lines_equal_alone("three_lines", "a\nbb\nccc");
  expect_lines_equal_alone("empty", "");
}

TEST(Cluster, LongLinesCrossingShareBoundaries) {
  std::string text;
  for (int i = 0; i < 40; ++i)
    text += std::string(static_cast<std::size_t>(i * 37 % 300), 'x') + "\n";
  expect_lines_equal_alone("long_lines", text);
}

TEST(Cluster, FanOutFanInWithOrderedGatheredSink) {
  auto run = [](const RunOptions& options) {
    Flow flow("fan");
    std::vector<std::pair<int, std::string>> joined;
    auto src = flow.source("numbers", std::views::iota(0, 5000));
    auto doubled = flow.node("doubled", [](int x) { return 2 * x; });
    auto text = flow.node("text", [](int x) { return std::to_string(x); });
    auto join = flow.fan_in("join", [](int d, const std::string& t) { return std::pair{d, t}; });
    src >> fan_out(doubled, text) >> join >>
        flow.node("keep", collect(joined), {.ordered = true, .gathered = true});
    flow.run(options);
    return joined;
  };
  const auto alone = run({.batch_size = 64});
  const auto together = run({.batch_size = 64, .cluster = cluster});
  if (rank() == 0) {
    EXPECT_EQ(together, alone);
  }
}

TEST(Cluster, RangeSourceIsSplitByIndex) {
  auto run = [](const RunOptions& options) {
    Flow flow("range");
    std::vector<int> seen;
    flow.source("numbers", std::views::iota(0, 10'007)) >>
        flow.node("keep", collect(seen), {.ordered = true, .gathered = true});
    const RunReport report = flow.run(options);
    return std::pair{seen, report};
  };
  const auto [alone, _] = run({.batch_size = 100});
  const auto [together, report] = run({.batch_size = 100, .cluster = cluster});
  if (rank() != 0) return;
  EXPECT_EQ(together, alone);
  for (const auto& r : report.per_rank) {
    const Shard share{r.rank, ranks()};
    EXPECT_EQ(r.node("numbers").out, share.end_of(10'007) - share.begin_of(10'007));
  }
}

TEST(Cluster, GeneratorRunsOnRankZeroUnlessEachRank) {
  auto run = [](OnRanks on) {
    Flow flow("generated");
    int next = 0;
    std::vector<int> seen;
    flow.source("gen",
                [next]() mutable -> std::optional<int> {
                  if (next == 100) return std::nullopt;
                  return next++;
                },
                {.on_ranks = on}) >>
        flow.node("keep", collect(seen), {.gathered = true});
    return flow.run({.cluster = cluster}).node("gen").out;
  };
  const std::uint64_t zero = run(OnRanks::rank_zero), each = run(OnRanks::each_rank);
  if (rank() != 0) return;
  EXPECT_EQ(zero, 100u);
  EXPECT_EQ(each, 100u * ranks());
}

TEST(Cluster, AFailingNodeOnOneRankFailsEveryRank) {
  const std::size_t failing = ranks() - 1;  // the last rank
  Flow flow("failing");
  flow.source("numbers", std::views::iota(0, 1'000'000)) >>
      flow.node("check",
                [&](int x) {
                  if (rank() == failing && x % 1000 == 999) throw std::runtime_error("bad item");
                  return x;
                }) >>
      flow.node("count", count_by([](int x) { return x % 10; })) >>
      flow.node("drop", [](std::pair<int, std::uint64_t>) {});
  const auto began = std::chrono::steady_clock::now();
  try {
    flow.run({.batch_size = 64, .cluster = cluster});
    FAIL() << "the run should fail on every rank";
  } catch (const NodeError& e) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    EXPECT_EQ(e.node(), "check");
    if (ranks() > 1) {
      EXPECT_EQ(e.rank(), failing);
      EXPECT_NE(
          std::string(e.what()).find(fmt::format("rank {}: node 'check' failed on item", failing)),
          std::string::npos)
          << e.what();
    }
    EXPECT_NE(std::string(e.what()).find("bad item"), std::string::npos) << e.what();
    std::printf("rank %zu: the failure reached this rank's run() in %.3f s\n", rank(), seconds);
  }
}

// A stop asked of the last rank cancels the whole job: every rank's endless source stops, and
// every rank's report names the rank the stop was asked of. The deadline bounds the test.
TEST(Cluster, AStopOnOneRankCancelsEveryRank) {
  const std::size_t stopping = ranks() - 1;
  std::stop_source stop;
  Flow flow("endless");
  flow.source("gen", [i = 0]() mutable -> std::optional<int> { return i++ % 1000; },
              {.on_ranks = OnRanks::each_rank}) >>
      flow.node("seen",
                [&, n = 0](int x) mutable {
                  if (rank() == stopping && ++n == 5000) stop.request_stop();
                  return x;
                },
                {.concurrency = serial}) >>
      flow.node("count", count_by([](int x) { return x % 100; })) >>
      flow.node("drop", [](std::pair<int, std::uint64_t>) {});
  RunOptions options{.batch_size = 64, .deadline = std::chrono::seconds(60), .cluster = cluster};
  if (rank() == stopping) options.stop = stop.get_token();
  const RunReport report = flow.run(options);
  EXPECT_TRUE(report.cancelled);
  EXPECT_EQ(report.stop_reason, ranks() > 1 ? fmt::format("rank {}: stop requested", stopping)
                                            : std::string("stop requested"));
}

TEST(Cluster, DifferentFlowsOnDifferentRanksAreRefused) {
  if (ranks() == 1) GTEST_SKIP() << "one rank runs one flow";
  Flow flow("mismatched");
  auto src = flow.source("numbers", std::views::iota(0, 10));
  if (rank() == 1)
    src >> flow.node("extra", [](int x) { return x; }) >> flow.node("drop", [](int) {});
  else
    src >> flow.node("drop", [](int) {});
  try {
    flow.run({.cluster = cluster});
    FAIL() << "ranks with different flows must not run";
  } catch (const FlowError& e) {
    EXPECT_NE(std::string(e.what()).find("rank 1 runs another flow than rank 0"), std::string::npos)
        << e.what();
  }
}

struct Opaque {  // no serialize(): it cannot cross ranks
  int x = 0;
  std::vector<int> v;
};

TEST(Cluster, ItemsThatCannotCrossRanksAreRefusedBeforeTheRun) {
  if (ranks() == 1) GTEST_SKIP() << "nothing crosses ranks on one";
  Flow flow("opaque");
  flow.source("numbers", std::views::iota(0, 10)) >> flow.node("wrap",
                                                               [](int x) {
                                                                 return Opaque{x, {x}};
                                                               }) >>
      flow.node("count", count_by([](const Opaque& o) { return o.x; })) >>
      flow.node("drop", [](std::pair<int, std::uint64_t>) {});
  try {
    flow.run({.cluster = cluster});
    FAIL() << "a keyed node of Opaque items cannot run on several ranks";
  } catch (const FlowError& e) {
    EXPECT_NE(std::string(e.what()).find("keyed aggregation 'count'"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("Opaque"), std::string::npos) << e.what();
  }
}

// Run twice by tests/mpi/kill_and_resume.sh (ctest mpi.sigkill_then_resume), with
// AETHERFLOW_TEST_KILL_DIR holding the input: first with AETHERFLOW_TEST_KILL_AT set, when the
// last rank SIGKILLs itself at that line of its share and mpirun ends the job; then without,
// when every rank resumes from its own checkpoint, and rank 0 checks that the two runs wrote
// every line of the input (those after a rank's last commit possibly twice: at-least-once).
TEST(ClusterKill, AJobKilledMidwayResumesToTheWholeOutput) {
  const char* dir = std::getenv("AETHERFLOW_TEST_KILL_DIR");
  if (!dir) GTEST_SKIP() << "run by tests/mpi/kill_and_resume.sh";
  const char* kill_at = std::getenv("AETHERFLOW_TEST_KILL_AT");
  const std::string base = dir, input = base + "/input.txt";
  const std::string output = fmt::format("{}/out.rank{}", base, rank());
  const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << output;
  Flow flow("killed");
  std::uint64_t seen = 0;
  const std::uint64_t kill = kill_at ? std::strtoull(kill_at, nullptr, 10) : 0;
  flow.source("lines", read_lines(input, {.chunk_size = 4096})) >>
      flow.node("tag", [](std::string_view line) { return std::string(line) + "\n"; }) >>
      flow.node("write", [&](const std::string& line) {
        if (kill && rank() == ranks() - 1 && ++seen == kill) ::raise(SIGKILL);
        ASSERT_EQ(::write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
      });
  const RunReport report = flow.run(
      {.threads = 2,
       .batch_size = 64,
       .checkpoint = {.path = base + "/checkpoint", .interval = std::chrono::milliseconds(0)},
       .cluster = cluster});
  ::close(fd);
  ASSERT_FALSE(kill) << "the last rank should have been killed";
  ASSERT_TRUE(report.resumed_from) << "the job resumes from each rank's checkpoint";
  barrier();
  if (rank() != 0) return;
  std::map<std::string, int> written;
  for (std::size_t r = 0; r < ranks(); ++r) {
    std::ifstream in(fmt::format("{}/out.rank{}", base, r));
    for (std::string line; std::getline(in, line);) ++written[line];
  }
  std::ifstream in(input);
  std::size_t lines = 0;
  for (std::string line; std::getline(in, line); ++lines)
    EXPECT_GE(written[line], 1) << "line " << lines << " missing";
  EXPECT_EQ(written.size(), lines) << "no line the input lacks";
  std::size_t twice = 0;
  for (const auto& [line, n] : written) twice += n > 1 ? 1 : 0;
  std::printf("%zu lines, all written; %zu written twice (after a rank's last commit)\n", lines,
              twice);
}

long peak_rss_kb() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// Run by its own ctest on 2 ranks (mpi.keyed_exchange_rss_flat): about 1 GiB of items crosses
// between the ranks, and neither rank's peak RSS grows past what a run 16 times smaller
// reached. The numbers are printed for docs/distributed.md.
TEST(ClusterMemory, AGigabyteThroughAKeyedExchangeKeepsEachRanksPeakRssFlat) {
  if (ranks() < 2) GTEST_SKIP() << "nothing crosses ranks on one";
  auto run = [](std::uint64_t n) {
    Flow flow("exchange_memory");
    std::vector<std::pair<std::uint64_t, std::uint64_t>> counts;
    flow.source("numbers", std::views::iota(std::uint64_t{0}, n)) >>
        flow.node("count", count_by([](std::uint64_t x) { return x % 65'536; })) >>
        flow.node("keep", collect(counts), {.gathered = true});
    const RunReport report = flow.run({.threads = 1, .batch_size = 4096, .cluster = cluster});
    return report.node("count").sent;
  };
  // Items of 8 bytes, half of them owned by the other rank: 2^28 items send 1 GiB.
  const std::uint64_t large = std::uint64_t{1} << 28, small = large / 16;
  run(small);  // the pools, tables and buffers reach their size
  const long after_small = peak_rss_kb();
  const std::uint64_t sent = run(large);
  const long after_large = peak_rss_kb();
  std::printf(
      "rank %zu: peak RSS %ld MiB after %llu items, %ld MiB after %llu (%.2f GiB sent, both "
      "ranks)\n",
      rank(), after_small >> 10, static_cast<unsigned long long>(small), after_large >> 10,
      static_cast<unsigned long long>(large),
      rank() == 0 ? static_cast<double>(sent) * 8 / (1 << 30) : 0.0);
  EXPECT_LT(after_large - after_small, 64 << 10) << "KiB more at 16 times the items";
}

}  // namespace
}  // namespace aetherflow

int main(int argc, char** argv) {
  aetherflow::mpi::Session mpi(argc, argv);
  aetherflow::cluster = mpi.cluster();
  // Only rank 0 prints the tests' progress; every rank prints its failures.
  if (mpi.rank() != 0) GTEST_FLAG_SET(brief, true);
  ::testing::InitGoogleTest(&argc, argv);
  const int failed = RUN_ALL_TESTS();
  aetherflow::cluster.reset();
  return failed;
}
