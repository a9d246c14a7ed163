// aetherflow-examples: every example flow by name, with common options.
//
//   aetherflow-examples --help                       the flows, the options, the exit codes
//   aetherflow-examples log_analytics --threads 4 --profile-dir out
//   aetherflow-examples market_data --input trades.csv
//   mpirun -np 4 aetherflow-examples word_count --input big.txt --output counts.txt
//
// Built with the mpi component, the program starts MPI: under mpirun, word_count and
// log_analytics run on every rank (docs/distributed.md), rank 0 printing the job's results.
//
// Exit codes: 0 the run's output checked out; 1 it did not; 2 a bad command line; 3 the run
// failed (an aetherflow::Error, message on stderr); 4 anything else.

#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <examples/example.hpp>
#ifdef AETHERFLOW_EXAMPLES_MPI
#include <flow/mpi/session.hpp>
#endif

namespace ex = aetherflow::examples;

namespace {

constexpr const char* kProgram = "aetherflow-examples";

// The options every flow takes, on the program and on each flow's subcommand (`flow`; null for
// the program): so they may come before or after the flow's name, and `FLOW --help` lists them.
void add_common_options(CLI::App& app, ex::CommonOptions& common, const ex::Example* flow) {
  app.add_option("-t,--threads", common.threads, "worker threads (0: every core)")
      ->check(ex::whole_number())
      ->check(CLI::Range(0, 4096));
  app.add_option("-b,--batch", common.batch, "items per batch (0: chosen by the run)")
      ->check(ex::whole_number())
      ->check(CLI::Range(0, 1 << 24));
  app.add_option("-i,--input", common.input,
                 !flow || flow->reads_input
                     ? "the flow's input file (default: a generated one)"
                     : "not for this flow: it makes its own items (a usage error)");
  app.add_option("-n,--size", common.size,
                 flow ? "size of the generated input, in " + flow->size_unit + " (default " +
                            std::to_string(flow->default_size) + ")"
                      : "size of the generated input, in the flow's unit")
      ->check(ex::whole_number());
  app.add_option("-p,--profile-dir", common.profile_dir,
                 "profile the run and write its JSON, trace, Prometheus and DOT there");
  app.add_flag(
      "--no-progress", [&common](std::int64_t) { common.progress = false; }, "no progress bar");
}

std::string names_of(const std::vector<ex::Example>& examples) {
  std::string names;
  for (const ex::Example& e : examples) names += (names.empty() ? "" : ", ") + e.name;
  return names;
}

int usage_error(const std::string& message) {
  std::cerr << kProgram << ": " << message << "\n";
  return ex::kExitUsage;
}

// A parse error from CLI11, said plainly where CLI11 would not name the problem: without a
// known flow it reports that a subcommand is required, whatever was typed.
int parse_error(const CLI::App& app, const CLI::ParseError& error,
                const std::vector<ex::Example>& examples) {
  if (app.get_subcommands().empty()) {
    for (const std::string& arg : app.remaining())
      if (!arg.empty() && arg[0] != '-')
        return usage_error("unknown flow '" + arg + "'; the flows are: " + names_of(examples));
    if (app.remaining().empty())
      return usage_error("no flow given; the flows are: " + names_of(examples));
  }
  app.exit(error);
  return ex::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
#ifdef AETHERFLOW_EXAMPLES_MPI
  std::optional<aetherflow::mpi::Session> mpi;  // alone, the program is one process
  if (aetherflow::mpi::Session::launched_by_mpirun()) mpi.emplace(argc, argv);
#endif
  CLI::App app("Runs an AetherFlow example flow by name.", kProgram);
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 the output checked out, 1 it did not (or no input record parsed), 2 bad "
      "command line, 3 the run failed (an aetherflow::Error), 4 anything else.\nRun "
      "'aetherflow-examples FLOW --help' for a flow's own options.");
  ex::CommonOptions common;
  add_common_options(app, common, nullptr);

  const auto examples = ex::all_examples();
  std::vector<ex::ExampleMain> mains;
  for (const ex::Example& e : examples) {
    CLI::App* sub =
        app.add_subcommand(e.name, e.summary + " (--size: " + e.size_unit + ", default " +
                                       std::to_string(e.default_size) + ")");
    add_common_options(*sub, common, &e);
    mains.push_back(e.declare(*sub));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return parse_error(app, e, examples);
  }

  const std::string chosen = app.get_subcommands().front()->get_name();
  std::size_t i = 0;
  while (examples[i].name != chosen) ++i;
  if (!common.input.empty() && !examples[i].reads_input)
    return usage_error("flow '" + chosen + "' takes no input file (--input)");
#ifdef AETHERFLOW_EXAMPLES_MPI
  if (mpi && mpi->size() > 1 && !examples[i].runs_on_cluster)
    return usage_error("flow '" + chosen +
                       "' runs in one process; under mpirun, run word_count or log_analytics");
  if (mpi && mpi->size() > 1) common.cluster = mpi->cluster();
#endif

  try {
    if (common.size == 0) common.size = examples[i].default_size;
    return mains[i](common);
  } catch (const aetherflow::Error& e) {
    std::cerr << kProgram << ": " << e.what() << "\n";
    return ex::kExitRunFailed;
  } catch (const std::exception& e) {
    std::cerr << kProgram << ": unexpected: " << e.what() << "\n";
    return ex::kExitUnexpected;
  }
}
