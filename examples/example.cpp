#include <examples/example.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <iostream>

namespace aetherflow::examples {

std::vector<Example> all_examples() {
  return {hello_flow(), log_analytics(),         market_data(),
          word_count(), profiling_walkthrough(), context_swap()};
}

RunOptions run_options(const CommonOptions& options, const std::string& label) {
  RunOptions run;
  run.threads = options.threads;
  run.batch_size = options.batch;
  if (options.progress) run.progress = ProgressBar(label);
  run.profile = !options.profile_dir.empty();
  return run;
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
  datagen::write_file(path_, kind, bytes);
}

ExampleInput::~ExampleInput() {
  if (!generated_) return;
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

}  // namespace aetherflow::examples
