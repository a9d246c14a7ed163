#pragma once
// The type-erased face of a node. Typed templates (step_node.hpp, fan_in_node.hpp, ...) turn a
// user's callable into one of these; the compiler (compile.cpp) wires them into a oneTBB graph
// and calls them once per batch, never per item.

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
#include <flow/detail/batch.hpp>
#include <flow/detail/type_name.hpp>
#include <flow/options.hpp>
#include <flow/report.hpp>
#include <flow/source.hpp>

namespace aetherflow::detail {

enum class NodeKind { source, transform, filter, expand, sink, fan_in, branch, repeat, batch };
const char* to_string(NodeKind kind) noexcept;

// What a node's call did to the items of one batch. Plain counters, added to the run's
// atomic totals once per batch.
struct ItemCounts {
  std::uint64_t in = 0;   // items received
  std::uint64_t out = 0;  // items emitted (sinks: items consumed)
  std::uint64_t filtered =
      0;                      // items dropped on purpose (filter, empty expansion, incomplete join)
  std::uint64_t failed = 0;   // items whose call threw (after any retries)
  std::uint64_t skipped = 0;  // of those, dropped (OnError::skip)
  std::uint64_t dead_lettered = 0;  // of those, sent to the dead letters
  std::uint64_t retries = 0;        // attempts after the first
  std::uint64_t cancelled = 0;      // received but not processed: the run was stopping
  std::uint64_t errors = 0;         // exceptions caught and recovered from (repeat without stop)
  Waits waits;                      // on locks of shared resources and on empty pools
};

class NodeImpl;

// What a node call may ask of the run it is part of.
class RunControl {
 public:
  // Waits `delay` without holding the worker thread: it runs other work of the run meanwhile.
  // Returns early when the run stops.
  virtual void wait(std::chrono::nanoseconds delay) = 0;
  // For a node that holds items (NodeImpl::holds_items): calls its flush() after `delay`.
  virtual void flush_later(const NodeImpl& node, std::chrono::nanoseconds delay) = 0;

 protected:
  ~RunControl() = default;
};

class ProviderBase;
struct ResourceNeed;

// Per call of a node on one batch.
struct CallContext {
  ItemCounts counts;
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
  NodeImpl(std::string name, NodeKind kind, NodeOptions options)
      : name_(std::move(name)), kind_(kind), options_(options) {}
  virtual ~NodeImpl() = default;

  const std::string& name() const noexcept { return name_; }
  NodeKind kind() const noexcept { return kind_; }
  const NodeOptions& options() const noexcept { return options_; }
  // Concurrency after defaults: nodes without an output (sinks, fan-ins into nothing) and
  // ordered sinks serial, others unlimited.
  std::size_t concurrency() const noexcept;

  const std::vector<const std::type_info*>& input_types() const noexcept { return inputs_; }
  const std::type_info* output_type() const noexcept { return output_; }  // null: no output
  virtual std::size_t output_ports() const { return output_ ? 1 : 0; }
  // Emits on more than its one output (a branch's routes, dead letters), or outside its calls
  // (a node that holds items): the executor gives it a broadcast node per port to put into.
  bool multi_port() const {
    return kind_ == NodeKind::branch || holds_items() || output_ports() > (output_ ? 1u : 0u);
  }
  // The item type leaving `port`: the output type, but for a dead-letter port.
  virtual const std::type_info* port_type(std::size_t /*port*/) const { return output_; }
  virtual std::string port_label(std::size_t /*port*/) const { return {}; }
  virtual std::string detail_label() const { return {}; }  // extra DOT text, e.g. "x3"
  // The resources the node's callable asks its context for, in parameter order.
  virtual std::vector<ResourceNeed> resource_needs() const;

  // Sources only: a cursor from the beginning, or from a checkpoint's point if resumable().
  virtual std::unique_ptr<SourceCursor> open(const ResumePoint& from) const;
  virtual bool resumable() const { return false; }
  // Once at the end of every run, after the node's last call, however the run ended: the
  // callable's finish() if it has one (a sink flushing what it buffered; docs/nodes.md).
  virtual void finish() const {}
  // The callable's own counters, read before and after every run (callable_counters).
  virtual std::vector<NodeCounter> counters() const { return {}; }
  // Every other node: consume `in` (one batch per input port, or for an ordered sink all parts
  // of one sequence number), fill `out` (one batch per output port, possibly empty).
  virtual void process(std::span<const BatchHandle> in, std::span<BatchHandle> out,
                       CallContext& ctx) const;

  // A node that keeps items between calls (a batch node) emits them outside its calls too:
  // flush() puts what is due in `out` (at the end of the stream, everything; else what a timer
  // asked for through RunControl::flush_later). After the run, drop_held() empties it and
  // says how many items it dropped, counted as cancelled.
  virtual bool holds_items() const { return false; }
  virtual void flush(std::span<BatchHandle> /*out*/, CallContext& /*ctx*/,
                     bool /*end_of_stream*/) const {}
  virtual std::uint64_t drop_held() const { return 0; }

 protected:
  std::vector<const std::type_info*> inputs_;
  const std::type_info* output_ = nullptr;

 private:
  std::string name_;
  NodeKind kind_;
  NodeOptions options_;
};

}  // namespace aetherflow::detail
