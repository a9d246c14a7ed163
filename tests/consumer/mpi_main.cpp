// Links aetherflow::mpi from the installed package; without mpirun the job is one rank.
#include <cstdint>
#include <iostream>
#include <ranges>
#include <utility>
#include <vector>

#include <flow/aetherflow.hpp>
#include <flow/mpi/session.hpp>

int main(int argc, char** argv) {
  aetherflow::mpi::Session mpi(argc, argv);
  aetherflow::Flow flow("consumer_mpi");
  std::vector<std::pair<int, std::uint64_t>> counts;
  flow.source("numbers", std::views::iota(0, 1000)) >>
      flow.node("count", aetherflow::count_by([](int x) { return x % 7; })) >>
      flow.node("keep", aetherflow::collect(counts), {.gathered = true});
  const aetherflow::RunReport report = flow.run({.cluster = mpi.cluster()});
  std::cout << "rank " << mpi.rank() << " of " << mpi.size() << ": " << counts.size() << " keys\n";
  return counts.size() == 7 && report.node("count").in == 1000 ? 0 : 1;
}
