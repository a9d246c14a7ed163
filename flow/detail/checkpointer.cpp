#include <flow/detail/checkpointer.hpp>

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include <flow/detail/log.hpp>
#include <flow/errors.hpp>

namespace aetherflow::detail {
namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A checkpoint is only resumed by the flow it was written for, with the same sources.
void check_matches(const Checkpoint& c, const std::filesystem::path& path, const std::string& flow,
                   const std::vector<std::string>& sources) {
  if (c.flow != flow)
    throw CheckpointError(fmt::format("checkpoint '{}' was written by flow '{}', not '{}'",
                                      path.string(), c.flow, flow));
  for (const auto& name : sources)
    if (!c.find(name))
      throw CheckpointError(fmt::format("checkpoint '{}' has no entry for source '{}' of flow '{}'",
                                        path.string(), name, flow));
  for (const auto& s : c.sources)
    if (std::ranges::find(sources, s.source) == sources.end())
      throw CheckpointError(
          fmt::format("checkpoint '{}' names source '{}', which flow '{}' does "
                      "not have",
                      path.string(), s.source, flow));
}

}  // namespace

Checkpointer::Checkpointer(const CheckpointOptions& options, std::string flow,
                           std::vector<std::string> sources, const std::atomic<bool>& stop)
    : options_(options), flow_(std::move(flow)), stop_(stop) {
  if (options_.resume && std::filesystem::exists(options_.path)) {
    resumed_from_ = read_checkpoint(options_.path);
    check_matches(*resumed_from_, options_.path, flow_, sources);
  }
  for (auto& name : sources) {
    Log log;
    if (resumed_from_) log.committed = resumed_from_->find(name)->committed;
    log.name = std::move(name);
    logs_.push_back(std::move(log));
  }
  next_write_ns_.store(now_ns() + std::chrono::nanoseconds(options_.interval).count());
}

ResumePoint Checkpointer::start(std::size_t source) const {
  std::lock_guard lock(mutex_);
  return logs_[source].committed;
}

void Checkpointer::emitted(std::size_t source, ResumePoint end) {
  std::lock_guard lock(mutex_);
  logs_[source].pending.push_back({end, false});
}

void Checkpointer::exhausted(std::size_t source) {
  std::lock_guard lock(mutex_);
  logs_[source].exhausted = true;
}

void Checkpointer::done(std::size_t source, std::uint64_t seq) noexcept {
  if (stop_.load(std::memory_order_relaxed)) return;
  {
    std::lock_guard lock(mutex_);
    Log& log = logs_[source];
    if (seq < log.first_pending || seq - log.first_pending >= log.pending.size()) return;
    log.pending[seq - log.first_pending].done = true;
    if (seq != log.first_pending) return;  // the committed point does not move
    while (!log.pending.empty() && log.pending.front().done) {
      log.committed = log.pending.front().end;
      log.pending.pop_front();
      ++log.first_pending;
    }
  }
  write_if_due();
}

Checkpoint Checkpointer::snapshot() const {
  Checkpoint c;
  c.flow = flow_;
  for (const Log& log : logs_)
    c.sources.push_back({log.name, log.committed, log.exhausted && log.pending.empty()});
  return c;
}

void Checkpointer::write_if_due() noexcept {
  const std::int64_t now = now_ns();
  std::int64_t due = next_write_ns_.load(std::memory_order_relaxed);
  if (now < due) return;
  std::unique_lock writing(write_mutex_, std::try_to_lock);
  if (!writing) return;  // another thread is writing a checkpoint as recent
  next_write_ns_.store(now + std::chrono::nanoseconds(options_.interval).count(),
                       std::memory_order_relaxed);
  try {
    Checkpoint c;
    {
      std::lock_guard lock(mutex_);
      c = snapshot();
    }
    write_checkpoint(options_.path, c);
  } catch (const std::exception& e) {
    log().warn("{} (the run goes on; the next checkpoint tries again)", e.what());
  }
}

Checkpoint Checkpointer::finish() {
  std::lock_guard writing(write_mutex_);
  Checkpoint c;
  {
    std::lock_guard lock(mutex_);
    c = snapshot();
  }
  write_checkpoint(options_.path, c);
  return c;
}

}  // namespace aetherflow::detail
