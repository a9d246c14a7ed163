#pragma once
// Open MPI for AetherFlow: the optional aetherflow::mpi component (-DAETHERFLOW_MPI=ON, link
// aetherflow::mpi). A program starts MPI once, for its whole life, and runs its flows on the
// cluster of every rank mpirun started (docs/distributed.md):
//
//   int main(int argc, char** argv) {
//     aetherflow::mpi::Session mpi(argc, argv);
//     aetherflow::Flow flow("word_count");
//     ...
//     aetherflow::RunReport report = flow.run({.cluster = mpi.cluster()});
//     if (mpi.rank() == 0) std::cout << report;   // rank 0's report holds the whole job
//   }
//
// Without mpirun, the program is one rank of one. Only the session's own thread makes MPI
// calls, so it asks MPI for MPI_THREAD_SERIALIZED and refuses to start with less; oneTBB's
// workers never call MPI.

#include <cstddef>
#include <memory>

#include <flow/cluster.hpp>

namespace aetherflow::mpi {

// The thread support to ask MPI for: `serialized` when only AetherFlow calls MPI; `multiple`
// when the program also calls MPI itself (MPI_Bcast of its settings, say) from its threads,
// alongside the session's communication thread.
enum class Threads { serialized, multiple };

class Session {
 public:
  // MPI_Init_thread, then the communication thread. aetherflow::Error if MPI was started
  // already, or grants less than asked.
  Session(int& argc, char**& argv, Threads threads = Threads::serialized);
  explicit Session(Threads threads = Threads::serialized);
  // Stops the thread, then MPI_Finalize. Runs on the cluster must have ended.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Whether mpirun (or another PMIx launcher) started this process: a program that runs
  // alone too may start MPI only then, and spare itself MPI's start-up (and its session
  // directory under TMPDIR) when alone.
  static bool launched_by_mpirun();

  // The cluster of MPI_COMM_WORLD's ranks, for RunOptions::cluster.
  std::shared_ptr<Cluster> cluster() const { return cluster_; }
  std::size_t rank() const { return cluster_->rank(); }
  std::size_t size() const { return cluster_->size(); }

 private:
  std::shared_ptr<Cluster> cluster_;
};

}  // namespace aetherflow::mpi
