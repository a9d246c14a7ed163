#pragma once
// The bottom of a run: what every other part of it reads or sets. The stop flag and why the
// run stopped, its first failure, each node's item counts, the timer (retry delays, the
// deadline, timed flushes) and the clock of the run's wall time. Everything else a run holds
// (sources, holders, the wiring) points down to this, never the other way.

#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <flow/detail/run/atomic_counts.hpp>
#include <flow/detail/timer.hpp>
#include <flow/detail/wakeup.hpp>
#include <flow/errors.hpp>

namespace aetherflow::detail {

class RunState {
 public:
  explicit RunState(std::size_t nodes) : counts_(nodes) {}
  RunState(const RunState&) = delete;
  RunState& operator=(const RunState&) = delete;

  // Set once the run stops early: sources stop, and nodes count what they still receive as
  // cancelled. Node calls read it through CallContext::stop.
  const std::atomic<bool>& stop_flag() const noexcept { return stop_; }
  bool stopping() const noexcept { return stop_.load(std::memory_order_relaxed); }
  // Whether the sources stop: the run stops, a source failed (fail_source), or drain().
  bool sources_stopping() const noexcept { return sources_stop_.load(std::memory_order_relaxed); }
  const std::atomic<bool>& sources_stop_flag() const noexcept { return sources_stop_; }

  // Stops the run early; calls waiting to retry wake up. The first reason is the one reported
  // (but for a drain's, which a stop replaces): true if it is this one.
  bool stop_early(std::string reason, bool cancelled);
  bool cancel(std::string reason) { return stop_early(std::move(reason), true); }
  // Stops the sources as if their input ended here: what they emitted is still processed, and
  // held items are flushed, as at the end of the input; the last checkpoint commits all of it
  // without marking a source finished, so a resume reads on. Not a cancellation: the report's
  // stop_reason is `reason` (unless the run stopped already), and nothing is counted cancelled.
  void drain(std::string reason);
  // Inside a catch block: the run stops, and it ends by throwing a NodeError naming `node` and
  // `item`, with the exception being handled nested in it. The first failure is the one kept.
  void fail(const std::string& node, std::uint64_t item, const std::string& what,
            NodeError::Stage stage = NodeError::Stage::item);
  // The same for a source's read error, but only the sources stop at once: what they emitted
  // before the error is still processed, and the rest of the run stops once the graph has
  // drained (graph_drained). So a source failing on item 500 delivers items 0 to 499.
  void fail_source(const std::string& node, std::uint64_t item, const std::string& what);
  // The graph ran dry: a source's failure stops the rest of the run now (held items are not
  // flushed, as the output would be partial).
  void graph_drained();
  // The first failure's NodeError (null: none).
  std::exception_ptr failure() const;

  // Cluster runs: the rank the run's failures name, and what to do (tell the other ranks)
  // when one of its nodes fails here; fail_remote() takes the failure another rank told of.
  void set_rank(std::size_t rank) { rank_ = rank; }
  void on_local_failure(std::function<void(const NodeError&)> tell) { tell_ = std::move(tell); }
  void fail_remote(const NodeError& error);

  // Waits `delay` or until the run stops, without holding the worker thread where oneTBB can
  // suspend the task (suspend.hpp): the thread runs other work of the run meanwhile.
  void wait(std::chrono::nanoseconds delay);
  // Waits until `wakeup` fires, `deadline` passes or the run stops, the same way (wakeup.hpp).
  // Returns at once when the run is stopping.
  void await(Wakeup& wakeup, std::chrono::steady_clock::time_point deadline);

  struct Ending {
    bool cancelled = false;
    std::string reason;
  };
  Ending ending() const;

  AtomicItemCounts& counts(std::size_t node) noexcept { return counts_[node]; }
  const AtomicItemCounts& counts(std::size_t node) const noexcept { return counts_[node]; }

  Timer& timer() noexcept { return timer_; }
  std::chrono::steady_clock::time_point start() const noexcept { return start_; }
  std::chrono::nanoseconds elapsed() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                                start_);
  }

 private:
  std::string failed_reason(const std::string& node) const;
  // The caller holds the lock. Whether `reason` becomes the run's: the first one does, and a
  // stop or failure replaces a drain's (it ends the run sooner). Sets drained_ to `drain`.
  bool take_reason(std::string reason, bool drain);
  // Keeps the first failure, nesting the exception being handled, and tells it (tell_).
  void record_failure(const std::string& node, std::uint64_t item, const std::string& what,
                      NodeError::Stage stage);

  std::atomic<bool> stop_{false};
  std::atomic<bool> sources_stop_{false};
  mutable std::mutex mutex_;       // guards the six below
  std::vector<Wakeup*> awaiting_;  // calls in await(): the stop wakes them
  std::string stop_reason_;
  bool cancelled_ = false;
  bool drained_ = false;  // stop_reason_ is drain()'s
  std::exception_ptr failure_;
  std::optional<std::size_t> rank_;
  std::function<void(const NodeError&)> tell_;
  std::deque<AtomicItemCounts> counts_;  // per node id
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  // Its actions reach into the rest of the run: the run stops it (Timer::stop) before any
  // other part goes.
  Timer timer_;
};

}  // namespace aetherflow::detail
