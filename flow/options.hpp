#pragma once
// Options for nodes and runs. Designated initialisers read well here:
//   flow.node("parse", parse, {.concurrency = aetherflow::serial});
//   flow.run({.threads = 2, .batch_size = 512});

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <flow/cluster.hpp>

namespace aetherflow {

// Concurrency of a node: how many calls of its body may run at once.
inline constexpr std::size_t serial = 1;
inline constexpr std::size_t unlimited = 0;

// What happens to an item whose call throws (after any retries): see docs/errors.md.
enum class OnError {
  fail,         // stop the run; Flow::run throws a NodeError naming the node and the item
  skip,         // count the item as failed and skipped, and go on without it
  dead_letter,  // send a DeadLetter (item, node, error, attempts) to node.dead_letters()
};

// Retrying a failed item: `retries` more attempts, attempt k+1 after
// min(delay * backoff^(k-1), max_delay). The worker runs other work while it waits.
struct Retry {
  std::size_t retries = 3;
  std::chrono::milliseconds delay{10};
  double backoff = 2.0;
  std::chrono::milliseconds max_delay{1000};
  // Which exceptions are worth retrying (see retry_on<E...>()); unset: every exception.
  std::function<bool(const std::exception_ptr&)> retryable = {};

  // The delay before retry number `retry` (1 for the first).
  std::chrono::nanoseconds delay_before(std::size_t retry) const {
    const double scaled = std::chrono::duration<double, std::nano>(delay).count() *
                          std::pow(backoff, static_cast<double>(retry - 1));
    const std::chrono::nanoseconds most = max_delay;
    return scaled >= static_cast<double>(most.count())
               ? most
               : std::chrono::nanoseconds(static_cast<std::int64_t>(scaled));
  }
};

namespace detail {
// Whether `error` holds an exception of type E or of one of Rest (or derived from one).
template <class E, class... Rest>
bool is_one_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const E&) {
    return true;
  } catch (...) {
    if constexpr (sizeof...(Rest) > 0)
      return is_one_of<Rest...>(error);
    else
      return false;
  }
}
}  // namespace detail

// A `retryable` predicate that accepts exceptions of the types E... (or derived from them):
//   .retry = aetherflow::Retry{.retryable = aetherflow::retry_on<TimeoutError>()}
template <class... E>
std::function<bool(const std::exception_ptr&)> retry_on() {
  return [](const std::exception_ptr& error) { return detail::is_one_of<E...>(error); };
}

// A concurrency range instead of a fixed limit: the run adjusts the node's limit within
// [min, max] from what its calls measure, every `window` calls (docs/concepts.md):
//   - more than `max_error_rate` of the window's items failed: limit x 0.8 (at least one less);
//   - else the window's time per item above `latency_tolerance` x the best window so far:
//     limit x 0.9 (at least one less);
//   - else: limit + 1.
// Each run starts at `initial` (0: min).
struct AdaptiveConcurrency {
  std::size_t min = 1;
  std::size_t max = 16;
  std::size_t initial = 0;
  std::size_t window = 16;
  double max_error_rate = 0.1;
  double latency_tolerance = 2.0;
};

struct NodeOptions {
  // Unset: sinks are serial (they usually write to one place), every other node unlimited.
  std::optional<std::size_t> concurrency = std::nullopt;
  // Sinks only: deliver items in the order their source emitted them. Implies serial.
  bool ordered = false;
  // One-input nodes (transform, filter, one-to-many, sink, repeat): what a failed item does.
  OnError on_error = OnError::fail;
  std::optional<Retry> retry = std::nullopt;
  // A range the run adapts the limit in, instead of `concurrency`: see AdaptiveConcurrency.
  std::optional<AdaptiveConcurrency> adaptive = std::nullopt;
  // Sources only, on a cluster: which ranks run it (flow/cluster.hpp, docs/distributed.md).
  std::optional<OnRanks> on_ranks = std::nullopt;
  // Sinks only, on a cluster: every rank's items are consumed on rank 0 (in source order if
  // `ordered`: rank 0's, then rank 1's, ...); the other ranks' copies consume nothing.
  bool gathered = false;
  // Async nodes only (flow/async.hpp): operations in flight at once, across all the node's
  // calls (unset: 64); and how long one may run before its item fails with OperationTimedOut,
  // under the node's error policy (zero: no limit).
  std::optional<std::size_t> max_in_flight = std::nullopt;
  std::chrono::nanoseconds operation_timeout{0};
};

struct RepeatOptions {
  // true: an exception in any round fails the item (and so the run). false: the item goes on
  // with the value of the last round that succeeded (the input itself if the first round
  // failed), and the swallowed exception is counted in the node's `errors`.
  bool stop_on_error = true;
  NodeOptions node = {};
};

// One node's part of a Progress report.
struct NodeProgress {
  std::string name;
  std::uint64_t in = 0, out = 0;  // items so far (a source's out: what it emitted)
  double out_per_second = 0;      // since the last report; in the last one, over the whole run
  std::optional<std::size_t> in_flight;  // async nodes: operations in flight now
};

// Where a run is: passed to RunOptions::progress every progress_interval, and once at the end.
struct Progress {
  std::uint64_t items = 0;                   // emitted by the sources so far
  std::uint64_t bytes = 0;                   // read by the sources that read bytes
  std::optional<std::uint64_t> total_bytes;  // when every such source knows its size
  std::chrono::nanoseconds elapsed{0};
  double items_per_second = 0;
  double bytes_per_second = 0;
  std::optional<std::chrono::nanoseconds> eta;  // from bytes, when the total is known
  bool done = false;                            // the last report of a run that finished
  std::vector<NodeProgress> nodes;              // every node, in flow order
  // Fraction of the bytes read, 0 to 1, when the total is known.
  std::optional<double> fraction() const {
    if (!total_bytes) return std::nullopt;
    return *total_bytes ? static_cast<double>(bytes) / static_cast<double>(*total_bytes) : 1.0;
  }
  // Sets the rates and the ETA from the counts, the total and the elapsed time.
  void derive_rates() {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    if (seconds > 0) {
      items_per_second = static_cast<double>(items) / seconds;
      bytes_per_second = static_cast<double>(bytes) / seconds;
    }
    if (total_bytes && bytes > 0 && bytes <= *total_bytes)
      eta = std::chrono::duration_cast<std::chrono::nanoseconds>(
          elapsed * (static_cast<double>(*total_bytes - bytes) / static_cast<double>(bytes)));
  }
};

// Checkpoints of a streaming run, and resuming from them: see docs/errors.md.
struct CheckpointOptions {
  // The checkpoint file. Empty: no checkpoints.
  std::filesystem::path path = {};
  // While the run goes, the file is rewritten at most this often (when something new was
  // committed); it is always written when the run ends, however it ends.
  std::chrono::milliseconds interval{1000};
  // Start from the checkpoint in `path` when the file exists: each source emits only what
  // comes after its committed point. false: start from the beginning, overwriting the file.
  bool resume = true;
};

// How the run chooses its batch size when RunOptions::batch_size is 0 (the default): see
// docs/performance.md, "Batch size". The run measures what a node call costs per item and
// sizes batches so that a call carries about `call_target` of work, within [min, max].
struct AutoBatchSize {
  std::size_t min = 1;
  std::size_t max = 4096;
  std::size_t initial = 64;  // before the first batch is measured
  std::chrono::microseconds call_target{50};
};

struct RunOptions {
  // Worker threads. 0: the AETHERFLOW_THREADS environment variable if set, else every core.
  std::size_t threads = 0;
  // Items per source batch. 0: the run chooses, from what an item costs (auto_batch_size);
  // larger batches amortise more overhead, smaller ones spread a few slow items over threads.
  std::size_t batch_size = 0;
  AutoBatchSize auto_batch_size = {};
  // A source batch leaves when it is full or when its first item has waited this long, so
  // that a live source's items do not wait for the items after them (docs/performance.md,
  // "Latency of live streams"). It bounds generators, whose calls wait for their items; readers end
  // their batches themselves when a read would block (read_lines on a pipe or standard input), and
  // ranges never wait. Zero: batches leave full (or at the end of the input).
  std::chrono::microseconds max_batch_delay{100};
  // Source batches in flight at once, per source (back-pressure). 0: four per thread.
  std::size_t max_batches_in_flight = 0;
  // Called with the run's progress from a source's thread, at most once per interval, and
  // once more when the run has finished. Keep it short: the source waits for it.
  std::function<void(const Progress&)> progress = {};
  std::chrono::milliseconds progress_interval{200};
  // Profile the run: RunReport::profile (see flow/profile.hpp). Also switched on, without
  // rebuilding, by AETHERFLOW_PROFILE=<directory>, which writes every output there.
  bool profile = false;
  // At most this many node calls go into the profile's trace: every call, or past the cap a
  // sample spread evenly over the whole run (the rest counted in Profile::trace_dropped).
  std::size_t trace_events = 100'000;
  // Cancels the run when stop is requested (from any thread): see docs/errors.md.
  std::stop_token stop = {};
  // Cancels the run once it has run this long; zero: no deadline.
  std::chrono::nanoseconds deadline{0};
  // Ends the run gracefully when stop is requested: the sources stop as if their input ended
  // there, what they emitted is processed and what nodes hold is flushed, the last
  // checkpoint commits all of it (a resume reads on), and the report's stop_reason says so.
  // Nothing is cancelled: RunReport::cancelled stays false.
  std::stop_token drain = {};
  // While the run goes, SIGINT and SIGTERM drain it (as `drain` does; stop_reason "SIGTERM
  // received: drained"), and a second signal cancels it at once (as `stop`). The handlers there
  // were before are restored when the run ends. docs/errors.md, "Draining, and stopping on a
  // signal".
  bool stop_on_signals = false;
  // Write checkpoints, and resume from them: every source must be resumable (flow/source.hpp).
  CheckpointOptions checkpoint = {};
  // Each source ends after this many items, as if its input ended there: a run on a sample of
  // the input (tune() uses it). 0: all of it.
  std::uint64_t max_items = 0;
  // Run the flow on every rank of a cluster (flow/cluster.hpp, docs/distributed.md): sources
  // split their input, keyed nodes send each key to the rank that owns it, gathered sinks
  // consume on rank 0, and rank 0's report holds the whole job. Null: this process alone.
  std::shared_ptr<Cluster> cluster = {};
  // Run each chain of one-to-one nodes as one oneTBB node (docs/performance.md, "Fusion").
  // false: one oneTBB node per flow node, to compare.
  bool fuse = true;
};

}  // namespace aetherflow
