#include <examples/example.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>

namespace aetherflow::examples {
namespace {

// Draws "generating NAME" while datagen writes `bytes` bytes, when progress is on: as often as
// a run's bar, not at every write (a megabyte can take a millisecond).
datagen::WriteProgress generating(const CommonOptions& options, const std::string& name,
                                  std::uint64_t bytes) {
  if (!options.progress) return {};
  const auto start = std::chrono::steady_clock::now();
  return [bar = ProgressBar("generating " + name), start, last = start, bytes](
             std::uint64_t written, std::uint64_t lines) mutable {
    const auto now = std::chrono::steady_clock::now();
    if (written < bytes && now - last < RunOptions{}.progress_interval) return;
    last = now;
    Progress p;
    p.items = lines;
    p.bytes = written;
    p.total_bytes = std::max(bytes, written);  // the last line may go past `bytes`
    p.elapsed = now - start;
    p.derive_rates();
    p.done = written >= bytes;
    bar(p);
  };
}

}  // namespace

std::vector<Example> all_examples() {
  return {hello_flow(),   log_analytics(), market_data(), word_count(), profiling_walkthrough(),
          context_swap(), live_ticks()};
}

const CLI::Validator& whole_number() {
  static const CLI::Validator validator(
      [](const std::string& value) -> std::string {
        const bool digits = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
          return c >= '0' && c <= '9';
        });
        return digits ? "" : "'" + value + "' is not a whole number";
      },
      "", "whole number");
  return validator;
}

RunOptions run_options(const CommonOptions& options, const std::string& source) {
  RunOptions run;
  run.threads = options.threads;
  run.batch_size = options.batch;
  run.cluster = options.cluster;
  if (options.progress && prints_results(options))
    run.progress = ProgressBar(
        options.input.empty() ? source : std::filesystem::path(options.input).filename().string());
  run.profile = !options.profile_dir.empty();
  return run;
}

bool anything_parsed(const RunReport& report, const std::string& parse) {
  const NodeReport& node = report.node(parse);
  if (node.in == 0 || node.out > 0) return true;
  std::cerr << "aetherflow-examples: nothing to check: all " << node.in
            << " records of the input are unparsable\n";
  return false;
}

void finish_run(const CommonOptions& options, const Flow& flow, const RunReport& report) {
  if (options.profile_dir.empty() || !report.profile) return;
  write_profile(flow, *report.profile, options.profile_dir);
  std::cout << *report.profile << "profile written to " << options.profile_dir << "/" << flow.name()
            << ".*\n";
}

ExampleInput::ExampleInput(const CommonOptions& options, const std::string& name,
                           datagen::Kind kind, std::uint64_t bytes)
    : path_(options.input), generated_(options.input.empty()) {
  if (!generated_) return;
  static std::atomic<int> counter{0};
  path_ = (std::filesystem::temp_directory_path() / ("aetherflow_" + std::to_string(::getpid()) +
                                                     "_" + std::to_string(counter++) + "_" + name))
              .string();
  removed_on_signal_.emplace(path_);  // before the file exists, so no signal finds it unlisted
  try {
    datagen::write_file(path_, kind, bytes, datagen::kDefaultSeed,
                        generating(options, name, bytes));
  } catch (...) {  // a full disk, say: the destructor will not run
    remove_generated();
    throw;
  }
}

ExampleInput::~ExampleInput() {
  remove_generated();
}

void ExampleInput::remove_generated() const {
  if (!generated_) return;
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

}  // namespace aetherflow::examples
