#pragma once
// The checkpoints of one run (RunOptions::checkpoint). A source batch is recorded when its
// source emits it, with the source's point right after it; it is done when the last batch
// derived from it is released, that is when every node, sinks included, is through with all
// its items. A source's committed point is the end of its longest run of done batches from
// the start: everything before it is fully processed, in whatever order the batches finished.
//
// Once the run stops early (cancelled, or an item failed) nothing more is committed: a batch
// released after that may have lost items to the stop. So a resumed run may process again
// what was finished after the last commit (at-least-once), and never skips what was not.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <flow/checkpoint.hpp>
#include <flow/options.hpp>

namespace aetherflow::detail {

class Checkpointer {
 public:
  // Reads the checkpoint to resume from when the options say so and the file exists:
  // CheckpointError if it is unreadable or was written for another flow or other sources.
  Checkpointer(const CheckpointOptions& options, std::string flow, std::vector<std::string> sources,
               const std::atomic<bool>& stop);

  const std::optional<Checkpoint>& resumed_from() const noexcept { return resumed_from_; }
  // Where source number `source` (in the order given) starts this run.
  ResumePoint start(std::size_t source) const;

  // The source thread: its next batch (sequence numbers 0, 1, 2...) was emitted and ends at
  // `end`.
  void emitted(std::size_t source, ResumePoint end);
  // The source thread: there is nothing after the last batch emitted.
  void exhausted(std::size_t source);
  // Any thread: every batch derived from batch `seq` is released. May write the checkpoint
  // file, at most once per interval; a failed write is logged and retried at the next one.
  void done(std::size_t source, std::uint64_t seq) noexcept;

  // After the run, however it ended: writes the checkpoint and returns it. CheckpointError
  // if the file cannot be written.
  Checkpoint finish();

 private:
  struct Log {
    std::string name;
    ResumePoint committed;
    std::uint64_t first_pending = 0;  // sequence number of pending.front()
    struct Batch {
      ResumePoint end;
      bool done = false;
    };
    std::deque<Batch> pending;  // emitted and not yet committed, in sequence order
    bool exhausted = false;
  };

  Checkpoint snapshot() const;  // under mutex_
  void write_if_due() noexcept;

  CheckpointOptions options_;
  std::string flow_;
  const std::atomic<bool>& stop_;
  std::optional<Checkpoint> resumed_from_;
  mutable std::mutex mutex_;  // guards logs_
  std::vector<Log> logs_;
  std::mutex write_mutex_;  // one write at a time, each of a snapshot taken under it
  std::atomic<std::int64_t> next_write_ns_{0};
};

}  // namespace aetherflow::detail
