#pragma once
// What a run did: per node, every item accounted for.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <flow/checkpoint.hpp>

namespace aetherflow {

// A count a node's callable keeps of its own (a cache's hits, say), published by a
// counters() member; a run reports how much each grew during the run.
struct NodeCounter {
  std::string name;
  std::uint64_t value = 0;
  bool operator==(const NodeCounter&) const = default;
};

// Where a node with a concurrency range (NodeOptions::adaptive) ended a run.
struct AdaptiveReport {
  std::size_t limit = 0;         // the limit at the end of the run
  std::size_t min = 0, max = 0;  // the range
  std::size_t changes = 0;       // how often the run moved the limit
};

// What a node did to its items: one call's counts, or a whole run's. For one-to-one nodes,
// filters and sinks the balance is exact:
//   in == out + filtered + failed + cancelled
// (a one-to-many node's `out` counts what it emitted; its inputs balance the same way with
// `out` replaced by the inputs that emitted something). See docs/errors.md.
struct ItemCounts {
  std::uint64_t in = 0;        // items received
  std::uint64_t out = 0;       // items emitted; for sinks, items consumed
  std::uint64_t filtered = 0;  // dropped on purpose: filter, empty expansion, incomplete fan-in
  std::uint64_t failed = 0;    // items whose call threw (after any retries), under any policy
  std::uint64_t skipped = 0;   // of those, dropped by OnError::skip
  std::uint64_t dead_lettered = 0;  // of those, sent to the node's dead letters
  std::uint64_t retries = 0;        // attempts after the first, successful or not
  std::uint64_t cancelled = 0;      // received but not processed: the run was stopping
  // Cluster runs (docs/distributed.md): items this rank's copy of the node handed to another
  // rank's (a keyed node's to the owner of their key, a gathered sink's to rank 0), and items
  // it took from the others. A rank's row balances with them; the job's, where they cancel
  // out, without.
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  std::uint64_t errors = 0;  // exceptions recovered from (repeat without stop_on_error)
  std::uint64_t waits = 0;   // calls that waited for a resource: a shared lock, a pool lease
  std::chrono::nanoseconds wait_time{0};  // time those calls waited
  // Async nodes (flow/async.hpp): time their calls spent suspended until operations in flight
  // completed, holding no worker. Not busy time.
  std::chrono::nanoseconds awaited{0};

  // Calls `f` on each count of `counts` (an ItemCounts, const or not) in declaration order:
  // code that adds, stores or compares counts names the fields once, here.
  // Inlined: the run adds a call's counts through it once per node call (AtomicItemCounts).
  template <class Counts, class F>
  [[gnu::always_inline]] static inline void each(Counts& counts, F&& f) {
    f(counts.in);
    f(counts.out);
    f(counts.filtered);
    f(counts.failed);
    f(counts.skipped);
    f(counts.dead_lettered);
    f(counts.retries);
    f(counts.cancelled);
    f(counts.sent);
    f(counts.received);
    f(counts.errors);
    f(counts.waits);
    f(counts.wait_time);
    f(counts.awaited);
  }
  static constexpr std::size_t kCounts = 14;
  bool operator==(const ItemCounts&) const = default;
};

// One shard of a keyed node's state (nodes/keyed.hpp): the keys it held when the input ended,
// and the items it aggregated.
struct ShardLoad {
  std::uint64_t keys = 0;
  std::uint64_t items = 0;
  std::uint32_t rank = 0;  // cluster runs: the rank whose shard it is (the job's report lists all)
  bool operator==(const ShardLoad&) const = default;
};

// The largest shard's share of all shards' items (0 without items): 1/P when the keys spread
// evenly, near 1 when one key takes most items.
double largest_shard_share(const std::vector<ShardLoad>& shards);
// How messages name shard `index` of `shards`: "shard 7", or where the shards are several
// ranks' (a cluster run's job), "rank 2's shard 5", numbered within its rank.
std::string shard_label(const std::vector<ShardLoad>& shards, std::size_t index);

// An async node's operations in one run (flow/async.hpp, docs/nodes.md). Every operation
// started ended one way: completed (with a value or an error), timed out, or abandoned when
// the run stopped; a completion that came after its operation timed out or was abandoned is
// counted late and otherwise ignored.
struct OperationsReport {
  std::size_t max_in_flight = 0;   // the node's limit (NodeOptions::max_in_flight)
  std::size_t peak_in_flight = 0;  // most operations in flight at once
  std::uint64_t started = 0;       // retries included
  std::uint64_t completed = 0;     // with a value or an error
  std::uint64_t timed_out = 0;     // NodeOptions::operation_timeout passed first
  std::uint64_t abandoned = 0;     // in flight when the run stopped
  std::uint64_t late = 0;
  bool operator==(const OperationsReport&) const = default;
};

// One node's report: its name and kind, its items, and what else the run knows of it.
struct NodeReport : ItemCounts {
  std::string name;
  std::string
      kind;  // source, transform, filter, expand, sink, fan_in, branch, repeat, batch, keyed, top_k
  std::vector<NodeCounter> counters;       // the callable's counters(), grown during this run
  std::optional<AdaptiveReport> adaptive;  // nodes with a concurrency range only
  // Keyed nodes only, one per shard. A run that emitted every key (out == sum of the keys)
  // balances as
  //   in == sum of the shards' items + failed + cancelled
  // and one stopped before, which counts the items it aggregated as cancelled, as
  //   in == failed + cancelled
  std::vector<ShardLoad> shards;
  std::optional<OperationsReport> operations;  // async nodes only
};

struct RunReport {
  std::string flow;
  std::size_t threads = 0;  // worker threads the run had
  // The threads asked for (RunOptions::threads or AETHERFLOW_THREADS): more than `threads`
  // when oneTBB's limit (the machine's cores, unless a tbb::global_control raises it) capped
  // the request.
  std::size_t threads_requested = 0;
  // Items per source batch: the fixed size, or when the run chose it (batch_size_chosen) the
  // size it chose last.
  std::size_t batch_size = 0;
  bool batch_size_chosen = false;
  std::chrono::nanoseconds wall{0};
  std::vector<NodeReport> nodes;  // in topological order of the flow
  // Set when the run was cancelled (RunOptions::stop or deadline). `stop_reason` says what
  // ended the run early: the cancellation, or the node that failed. Items left unprocessed are
  // counted in NodeReport::cancelled.
  bool cancelled = false;
  std::string stop_reason;
  // Runs with RunOptions::checkpoint: the point the run resumed from (empty sources when it
  // started afresh), and the last checkpoint it wrote, where it got to.
  std::optional<Checkpoint> resumed_from;
  std::optional<Checkpoint> checkpoint;
  std::shared_ptr<const struct Profile> profile;  // profiled runs only (flow/profile.hpp)
  // Cluster runs (RunOptions::cluster): this rank, and how many ran the job. On rank 0 the
  // report is the whole job's, counts summed over the ranks, with every rank's own report in
  // `per_rank` (rank order); on the others it is their own.
  std::size_t rank = 0;
  std::size_t ranks = 1;
  std::vector<RunReport> per_rank;

  // The report of the node called `name`; std::out_of_range naming it if there is none.
  const NodeReport& node(std::string_view name) const;
  // Items emitted by all sources.
  std::uint64_t source_items() const;
  double wall_seconds() const { return std::chrono::duration<double>(wall).count(); }
  double items_per_second() const;
};

// A table, one line per node.
std::ostream& operator<<(std::ostream& os, const RunReport& report);

}  // namespace aetherflow
