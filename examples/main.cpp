// aetherflow-examples: every example flow by name, with common options.
//
//   aetherflow-examples --help                       the flows, the options, the exit codes
//   aetherflow-examples log_analytics --threads 4 --profile-dir out
//   aetherflow-examples market_data --input trades.csv
//
// Exit codes: 0 the run's output checked out; 1 it did not; 2 a bad command line; 3 the run
// failed (an aetherflow::Error, message on stderr); 4 anything else.

#include <exception>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include <examples/example.hpp>

namespace ex = aetherflow::examples;

int main(int argc, char** argv) {
  CLI::App app("Runs an AetherFlow example flow by name.", "aetherflow-examples");
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 the output checked out, 1 it did not, 2 bad command line, 3 the run failed "
      "(an aetherflow::Error), 4 anything else.\nRun 'aetherflow-examples FLOW --help' for a "
      "flow's own options.");
  ex::CommonOptions common;
  app.add_option("-t,--threads", common.threads, "worker threads (0: every core)")
      ->check(CLI::Range(0, 4096));
  app.add_option("-b,--batch", common.batch, "items per batch (0: chosen by the run)")
      ->check(CLI::Range(0, 1 << 24));
  app.add_option("-i,--input", common.input, "the flow's input file (default: a generated one)");
  app.add_option("-n,--size", common.size, "size of the generated input, in the flow's unit");
  app.add_option("-p,--profile-dir", common.profile_dir,
                 "profile the run and write its JSON, trace, Prometheus and DOT there");
  app.add_flag(
      "--no-progress", [&common](std::int64_t) { common.progress = false; }, "no progress bar");
  // The common options may also come after the flow's name.
  app.fallthrough();

  ex::ExampleMain chosen;
  std::uint64_t default_size = 0;  // the chosen example's, for a --size not given
  const auto examples = ex::all_examples();
  for (const ex::Example& e : examples) {
    CLI::App* sub =
        app.add_subcommand(e.name, e.summary + " (--size: " + e.size_unit + ", default " +
                                       std::to_string(e.default_size) + ")");
    auto run = std::make_shared<ex::ExampleMain>(e.declare(*sub));
    sub->callback([&chosen, &default_size, run, size = e.default_size] {
      chosen = *run;
      default_size = size;
    });
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return ex::kExitUsage;
  }

  try {
    if (common.size == 0) common.size = default_size;
    return chosen(common);
  } catch (const aetherflow::Error& e) {
    std::cerr << "aetherflow-examples: " << e.what() << "\n";
    return ex::kExitRunFailed;
  } catch (const std::exception& e) {
    std::cerr << "aetherflow-examples: unexpected: " << e.what() << "\n";
    return ex::kExitUnexpected;
  }
}
