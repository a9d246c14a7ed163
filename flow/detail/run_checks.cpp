#include <flow/detail/run_checks.hpp>

#include <filesystem>

#include <fmt/format.h>

namespace aetherflow::detail {
namespace {

void check_batch_size(const RunOptions& options, std::vector<std::string>& problems) {
  if (options.batch_size > kMaxBatchSize)
    problems.push_back(fmt::format(
        "RunOptions::batch_size {} is out of range (0 for the run to choose, or 1 to {})",
        options.batch_size, kMaxBatchSize));
  if (options.batch_size != 0) return;
  const AutoBatchSize& a = options.auto_batch_size;
  if (a.min == 0 || a.min > a.max || a.max > kMaxBatchSize || a.call_target.count() <= 0)
    problems.push_back(
        fmt::format("RunOptions::auto_batch_size needs 1 <= min <= max <= {} and a positive "
                    "call_target; it has min {}, max {}, call_target {} us",
                    kMaxBatchSize, a.min, a.max, a.call_target.count()));
}

// A checkpoint commits what every node is done with, and a run resumes each source from it.
void check_checkpoints(const FlowData& flow, const CheckpointOptions& options,
                       std::vector<std::string>& problems) {
  if (options.path.empty()) return;
  if (options.interval.count() < 0)
    problems.push_back(fmt::format("RunOptions::checkpoint.interval is negative ({} ms)",
                                   options.interval.count()));
  const std::filesystem::path directory = options.path.parent_path();
  if (!directory.empty() && !std::filesystem::is_directory(directory))
    problems.push_back(
        fmt::format("RunOptions::checkpoint.path '{}': its directory '{}' does not exist",
                    options.path.string(), directory.string()));
  for (const auto& decl : flow.nodes) {
    const NodeImpl& node = *decl.impl;
    if (node.holds_items())
      problems.push_back(fmt::format(
          "node '{}' holds items between calls (a {} node), so a checkpoint would commit "
          "items it has not passed on yet: checkpoints cannot be used with it",
          node.name(), node.traits().noun));
    if (node.shape() == Shape::source && !node.resumable())
      problems.push_back(fmt::format(
          "source '{}' cannot resume from a checkpoint (RunOptions::checkpoint): a generator's "
          "calls cannot be replayed; use a range, a file source, or a source with "
          "open(ResumePoint) (flow/source.hpp)",
          node.name()));
  }
}

}  // namespace

void check_run_options(const FlowData& flow, const RunOptions& options,
                       std::vector<std::string>& problems) {
  check_batch_size(options, problems);
  check_checkpoints(flow, options.checkpoint, problems);
  if (options.cluster && options.cluster->size() > 1) {
    for (const auto& decl : flow.nodes) {
      decl.impl->check_on_cluster(problems);
      if (!options.checkpoint.path.empty() && decl.impl->options().gathered)
        problems.push_back(fmt::format(
            "gathered sink '{}': rank 0 consumes the other ranks' items after its own input "
            "ends, so their checkpoints would commit items it has not consumed: checkpoints "
            "cannot be used with a gathered sink on a cluster (docs/distributed.md)",
            decl.impl->name()));
    }
  }
}

}  // namespace aetherflow::detail
