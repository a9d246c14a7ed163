#pragma once
// The type-erased face of a node: the seam between node kinds and the run. Typed templates
// (step_node.hpp, fan_in_node.hpp, nodes/detail/batch_node.hpp, ...) turn a user's callable into
// one of these; the run (run/wiring.cpp) wires each by its shape() into a oneTBB graph and calls
// it once per batch, never per item. docs/extending.md adds a kind.

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include <contexts/detail/waits.hpp>
#include <flow/cluster.hpp>
#include <flow/detail/batch.hpp>
#include <flow/detail/type_name.hpp>
#include <flow/options.hpp>
#include <flow/report.hpp>
#include <flow/source.hpp>

namespace aetherflow::detail {

// How the run wires a node into oneTBB (flow/detail/run/wiring.cpp): a few shapes serve every
// node kind, so a new kind picks one instead of teaching the run about itself.
enum class Shape {
  source,   // an input_node behind its gate's limiter (back-pressure)
  step,     // one function_node, one input, at most one output: may join a fused chain
  ordered,  // a serial function_node that restores source order first (an ordered sink)
  routes,   // a function_node putting into a broadcast_node per output port: branches, dead
            // letters, and nodes that emit outside their calls (NodeImpl::holds_items)
  join,     // a key_matching join_node pairing one batch per input, then a function_node
};

// Largest number of inputs a join takes: oneTBB's join_node takes at most ten ports, and the
// run instantiates one join per arity.
inline constexpr std::size_t kMaxJoinInputs = 8;

// What a node kind does to the slots of the items it emits, which decides what may follow it
// (plan.cpp): fan-ins pair items by slot, and ordered sinks order them by sequence number.
enum class Slots {
  kept,        // each output item keeps its input's slot, at most one item per slot
  multiplied,  // several output items may share a slot (one-to-many)
  regrouped,   // outputs mix items of different source batches (a batch node's groups)
};

// What the plan, the run and the DOT output ask of a node kind. Each kind states it once, in
// its own file (step_node.hpp, fan_in_node.hpp, ...): nothing switches on the kind.
struct NodeTraits {
  const char* label;  // in reports and DOT: "transform", "batch", ...
  const char* noun;   // in messages: "the one-to-many node 'x'"
  const char* dot_shape = "box";
  bool item_calls = true;  // calls user code once per item: on_error and retry apply
  bool fusable = false;    // may share a oneTBB node with its neighbours (fusion.hpp)
  bool adaptable = true;   // may take a concurrency range (NodeOptions::adaptive)
  Slots slots = Slots::kept;
  // Its calls wait, suspended, for operations they started (async nodes): max_in_flight and
  // operation_timeout apply, and it runs calls at once by default even without an output.
  bool suspends = false;
  const char* port_noun = nullptr;  // its output ports in messages: "route 'GET' of ..."
};

class NodeImpl;
class OperationGate;
class Wakeup;

// What a node call may ask of the run it is part of.
class RunControl {
 public:
  // Waits `delay` without holding the worker thread: it runs other work of the run meanwhile.
  // Returns early when the run stops.
  virtual void wait(std::chrono::nanoseconds delay) = 0;
  // Waits until `wakeup` fires (from any thread), `deadline` passes or the run stops, the same
  // way: an async node waiting for its operations (wakeup.hpp). `wakeup` is owned by a
  // shared_ptr. Spurious returns happen: look again at what you wait for.
  virtual void await(Wakeup& wakeup, std::chrono::steady_clock::time_point deadline) = 0;
  // For a node that holds items (NodeImpl::holds_items): calls its flush() after `delay`.
  virtual void flush_later(const NodeImpl& node, std::chrono::nanoseconds delay) = 0;

 protected:
  ~RunControl() = default;
};

class ProviderBase;
struct ResourceNeed;
class ItemWire;

// What a run tells each node before its first call (NodeImpl::begin_run).
struct RunStart {
  std::size_t threads = 1;     // worker threads of the run
  std::size_t batch_size = 0;  // items per source batch; 0: chosen by the run
  ClusterPlace cluster = {};
};

// Per call of a node on one batch.
struct CallContext {
  ItemCounts counts;  // its waits are folded in from `waits` when the call ends
  Waits waits;        // on locks of shared resources and on empty pools (contexts/)
  std::span<ProviderBase* const> resources;  // one per resource the node needs, in order
  const std::atomic<bool>* stop = nullptr;   // the run's stop flag: set, leave items unprocessed
  RunControl* run = nullptr;
  // An item failed under OnError::fail (or a body's exception is being rethrown): the
  // exception, and the item's slot in its batch.
  std::exception_ptr failure;
  std::uint32_t failed_slot = 0;

  bool stopping() const noexcept { return stop && stop->load(std::memory_order_relaxed); }
};

// A source's state for one run: each run opens a fresh cursor, so a rerun starts over (or
// where a checkpoint says).
class SourceCursor {
 public:
  virtual ~SourceCursor() = default;
  // The next batch of at most max_items (slots 0..n-1), taken from the run's `pool`, or an
  // empty handle at the end.
  virtual BatchHandle next(std::size_t max_items, BatchPool& pool) = 0;
  // How far the source is through its input, for progress reports.
  virtual SourcePosition position() const { return {}; }
  // What the run tells the cursor before its first next().
  struct Settings {
    // RunOptions::max_batch_delay: a source whose reads wait for their items (a generator)
    // ends a batch early to keep to it (batch_delay.hpp).
    std::chrono::nanoseconds max_batch_delay{0};
    // Set once the sources stop: a reader that found nothing new yet (a followed file) is
    // not asked again.
    const std::atomic<bool>* sources_stop = nullptr;
  };
  virtual void configure(const Settings&) {}

 protected:
  // Runs `read`, which adds items to the batch under way (`added()` of them so far). When it
  // throws after adding some, the exception waits for the next call, which rethrows it before
  // reading on: the items the source did produce are delivered, and the error names the first
  // item it could not produce.
  template <class Read, class Added>
  void read_or_defer(Read&& read, Added&& added) {
    if (deferred_) std::rethrow_exception(std::exchange(deferred_, nullptr));
    try {
      read();
    } catch (...) {
      if (added() == 0) throw;
      deferred_ = std::current_exception();
    }
  }

 private:
  std::exception_ptr deferred_;
};

// Calls `fn.finish()` if the callable has one.
template <class F>
void finish_callable(F& fn) {
  if constexpr (requires { fn.finish(); }) fn.finish();
}

// `fn.counters()` if the callable has it: counts that only grow, such as a cache's hits.
template <class F>
std::vector<NodeCounter> callable_counters(const F& fn) {
  if constexpr (requires {
                  { fn.counters() } -> std::convertible_to<std::vector<NodeCounter>>;
                })
    return fn.counters();
  else
    return {};
}

class NodeImpl {
 public:
  NodeImpl(std::string name, const NodeTraits& traits, NodeOptions options)
      : name_(std::move(name)), traits_(&traits), options_(options) {}
  virtual ~NodeImpl() = default;

  const std::string& name() const noexcept { return name_; }
  const NodeTraits& traits() const noexcept { return *traits_; }
  const NodeOptions& options() const noexcept { return options_; }
  // Concurrency after defaults: nodes without an output (sinks, fan-ins into nothing) and
  // ordered sinks serial, others unlimited.
  std::size_t concurrency() const noexcept;
  // How the run wires it: a step, or routes when it emits on more than its one output (a
  // branch's routes, dead letters) or outside its calls (a node that holds items).
  virtual Shape shape() const {
    return holds_items() || output_ports() > (output_ ? 1u : 0u) ? Shape::routes : Shape::step;
  }
  // The node's own declaration problems, for the flow's FlowError (plan.cpp): a batch size of
  // zero, say. The flow's structure and error policies are checked for every node alike.
  virtual void check(std::vector<std::string>& /*problems*/) const {}

  const std::vector<const std::type_info*>& input_types() const noexcept { return inputs_; }
  const std::type_info* output_type() const noexcept { return output_; }  // null: no output
  virtual std::size_t output_ports() const { return output_ ? 1 : 0; }
  // The item type leaving `port`: the output type, but for a dead-letter port.
  virtual const std::type_info* port_type(std::size_t /*port*/) const { return output_; }
  virtual std::string port_label(std::size_t /*port*/) const { return {}; }
  virtual std::string detail_label() const { return {}; }  // extra DOT text, e.g. "x3"
  // The resources the node's callable asks its context for, in parameter order.
  virtual std::vector<ResourceNeed> resource_needs() const;
  // How its input items cross ranks (flow/wire.hpp); null: they cannot. Nodes of one input.
  virtual const ItemWire* input_wire() const { return nullptr; }
  // On a cluster run of several ranks: what stops the node running there (items it must
  // send to another rank that cannot cross ranks, say), for the run's FlowError.
  virtual void check_on_cluster(std::vector<std::string>& problems) const;

  // Sources only: a cursor from the beginning, or from a checkpoint's point if resumable(),
  // over the shard's part of the input (all of it for Shard{}; on a cluster, see on_ranks()).
  virtual std::unique_ptr<SourceCursor> open(const ResumePoint& from, const Shard& shard) const;
  virtual bool resumable() const { return false; }
  // Sources only: whether open() can take a share of the input, and so which ranks of a
  // cluster run the source unless NodeOptions::on_ranks says.
  virtual bool splits() const { return false; }
  OnRanks on_ranks() const noexcept {
    return options_.on_ranks.value_or(splits() ? OnRanks::split : OnRanks::rank_zero);
  }
  // Once before every run's first call: a node keeping state between calls starts it afresh,
  // sized for the run (a keyed node's shards, one per thread).
  virtual void begin_run(const RunStart& /*run*/) const {}
  // Once at the end of every run, after the node's last call, however the run ended: the
  // callable's finish() if it has one (a sink flushing what it buffered; docs/nodes.md).
  virtual void finish() const {}
  // The callable's own counters, read before and after every run (callable_counters).
  virtual std::vector<NodeCounter> counters() const { return {}; }
  // A node whose state is split into shards (a keyed node): each shard's load in the run just
  // ended, read after it, for the report and the hot-shard advice. Empty for other nodes.
  virtual std::vector<ShardLoad> shard_loads() const { return {}; }
  // An async node's operations (operations.hpp), read after each run for the report and the
  // profile. Null for other nodes.
  virtual const OperationGate* operations() const { return nullptr; }
  // Every other node: consume `in` (one batch per input port, or for an ordered sink all parts
  // of one sequence number), fill `out` (one batch per output port, possibly empty).
  virtual void process(std::span<const BatchHandle> in, std::span<BatchHandle> out,
                       CallContext& ctx) const;

  // A node that keeps items between calls (a batch node) emits them outside its calls too:
  // flush() puts what is due in `out` (at the end of the stream, everything; else what a timer
  // asked for through RunControl::flush_later). At the end of the stream it may emit what it
  // holds one batch per call, returning true while more is left: the run calls it again, on
  // each of its threads at once (so these calls must be safe together), then lets the nodes
  // downstream take what they emitted, so that a large state (a keyed node's tables) leaves
  // in parallel and in a few batches' memory. After the run, drop_held() empties it and says
  // how many items it dropped, counted as cancelled.
  virtual bool holds_items() const { return false; }
  virtual bool flush(std::span<BatchHandle> /*out*/, CallContext& /*ctx*/,
                     bool /*end_of_stream*/) const {
    return false;
  }
  virtual std::uint64_t drop_held() const { return 0; }

 protected:
  std::vector<const std::type_info*> inputs_;
  const std::type_info* output_ = nullptr;

 private:
  std::string name_;
  const NodeTraits* traits_;
  NodeOptions options_;
};

}  // namespace aetherflow::detail
