#pragma once
// What every example flow of aetherflow-examples shares: the common options, how an example
// declares itself, and the helpers that turn the options into a run.
//
// An example is a function of CommonOptions (and options of its own) returning an exit code:
// kExitOk when its output checked out, kExitWrongResult when its own check failed (an input of
// which no record parsed fails it too). The program maps usage errors and failed runs to the
// other codes (examples/main.cpp).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <examples/removed_on_signal.hpp>
#include <flow/aetherflow.hpp>
#include <scripts/datagen.hpp>

namespace aetherflow::examples {

// Exit codes scripts can rely on (also in --help and docs/getting-started.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitWrongResult = 1;  // the example's own check of its output failed
inline constexpr int kExitUsage = 2;        // bad command line
inline constexpr int kExitRunFailed = 3;    // an aetherflow::Error: invalid flow, failed node, I/O
inline constexpr int kExitUnexpected = 4;   // any other exception

struct CommonOptions {
  std::size_t threads = 0;  // 0: every core
  std::size_t batch = 0;    // items per batch; 0: chosen by the run
  std::string input;        // the example's input file; empty: a generated one
  std::uint64_t size = 0;   // of the generated input, in the example's unit (main: its default)
  std::string profile_dir;  // non-empty: profile, and write every profile output there
  bool progress = true;     // a progress bar on a terminal
  // Under mpirun (the MPI build), for the flows that run on a cluster: the job's ranks.
  std::shared_ptr<Cluster> cluster;
};

// Whether this process prints the example's results and writes its --output: rank 0 of a
// cluster run, or the one process of the others (whose report is the whole job's).
inline bool prints_results(const CommonOptions& options) {
  return !options.cluster || options.cluster->rank() == 0;
}

using ExampleMain = std::function<int(const CommonOptions&)>;

struct Example {
  std::string name;
  std::string summary;
  bool reads_input;       // false: it makes its own items, and --input is a usage error
  std::string size_unit;  // what --size counts for this example
  std::uint64_t default_size = 0;
  // Adds the example's own options to its subcommand, and returns what runs it.
  std::function<ExampleMain(CLI::App&)> declare;
  bool runs_on_cluster = false;  // its sinks of results are gathered: it may run under mpirun
};

// Every example, in the order --help lists them.
std::vector<Example> all_examples();

// Checks an option's value is a whole number before it is converted or range-checked, so
// "--threads abc" says so.
const CLI::Validator& whole_number();

// RunOptions from the common options: threads, batch, a progress bar, and profiling when a
// profile directory is given. The bar is labelled with the --input file's name, or else with
// `source`, the name of the flow's source.
RunOptions run_options(const CommonOptions& options, const std::string& source);

// Whether any record reached by the `parse` node parsed. When every one failed, says so on
// stderr: the example's output then did not check out, whatever else it computed.
bool anything_parsed(const RunReport& report, const std::string& parse);

// After a run: with a profile directory, writes the run's profile outputs there
// (write_profile) and prints the profile table.
void finish_run(const CommonOptions& options, const Flow& flow, const RunReport& report);

// The example's input file: --input, or else one generated in the temporary directory
// (scripts/datagen.hpp: `kind`, at least `bytes`) with a progress bar while it is written,
// removed when this goes or when the program is interrupted (removed_on_signal.hpp).
class ExampleInput {
 public:
  ExampleInput(const CommonOptions& options, const std::string& name, datagen::Kind kind,
               std::uint64_t bytes);
  ExampleInput(const ExampleInput&) = delete;
  ExampleInput& operator=(const ExampleInput&) = delete;
  ~ExampleInput();
  const std::string& path() const { return path_; }

 private:
  void remove_generated() const;

  std::string path_;
  bool generated_;
  std::optional<RemovedOnSignal> removed_on_signal_;
};

// The examples.
Example context_swap();
Example hello_flow();
Example live_ticks();
Example log_analytics();
Example market_data();
Example profiling_walkthrough();
Example word_count();

}  // namespace aetherflow::examples
