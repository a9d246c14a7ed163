#include <flow/detail/executor.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task.h>
#include <oneapi/tbb/task_arena.h>

#include <flow/detail/adaptive_limit.hpp>
#include <flow/detail/checkpointer.hpp>
#include <flow/detail/duration_text.hpp>
#include <flow/detail/environment.hpp>
#include <flow/detail/fan_in_node.hpp>
#include <flow/detail/fusion.hpp>
#include <flow/detail/log.hpp>
#include <flow/detail/profiler.hpp>
#include <flow/detail/suspend.hpp>
#include <flow/detail/timer.hpp>
#include <flow/detail/tsan.hpp>
#include <flow/errors.hpp>

namespace aetherflow::detail {
namespace {

namespace tf = oneapi::tbb::flow;
using Msg = BatchHandle;

// Limits of a run's options.
constexpr std::size_t kMaxBatchSize = std::size_t{1} << 24;

struct AtomicCounts {
  std::atomic<std::uint64_t> in{0}, out{0}, filtered{0}, failed{0}, errors{0};
  std::atomic<std::uint64_t> skipped{0}, dead_lettered{0}, retries{0}, cancelled{0};
  std::atomic<std::uint64_t> waits{0}, wait_ns{0};

  void add(const ItemCounts& c) noexcept {
    constexpr auto relaxed = std::memory_order_relaxed;
    in.fetch_add(c.in, relaxed);
    out.fetch_add(c.out, relaxed);
    // The rare ones only when there is something to add: no write to a shared line otherwise.
    for (auto [total, n] : {std::pair{&filtered, c.filtered},
                            {&failed, c.failed},
                            {&errors, c.errors},
                            {&skipped, c.skipped},
                            {&dead_lettered, c.dead_lettered},
                            {&retries, c.retries},
                            {&cancelled, c.cancelled}})
      if (n) total->fetch_add(n, relaxed);
    if (c.waits.count) {
      waits.fetch_add(c.waits.count, relaxed);
      wait_ns.fetch_add(c.waits.ns, relaxed);
    }
  }
};

// Back-pressure of one source: a limiter_node lets at most N source batches into the graph;
// when the last batch derived from one of them is released, its token opens the gate again,
// and tells the run's checkpoints (if any) that the batch is done.
// With a batch size chosen by the run, the gate also hears what each batch cost and sizes the
// source's next ones (batch_sizer.hpp).
class SourceGate final : public InFlightToken::Gate {
 public:
  SourceGate(Checkpointer* checkpointer, std::size_t source, std::size_t batch_size,
             const AutoBatchSize& sizing)
      : checkpointer_(checkpointer), source_(source), batch_size_(batch_size) {
    if (batch_size == 0) sizer_.emplace(sizing);
  }
  void attach(tf::limiter_node<Msg>& limiter) { limiter_ = &limiter; }
  // After the run: batches still held by the graph's buffers are released without signalling.
  void close() noexcept { open_.store(false, std::memory_order_release); }

  // A token for the source's next batch: a spent one if there is one (free_list.hpp).
  Ref<InFlightToken> token(std::uint64_t seq, std::uint64_t first_item, std::uint64_t items,
                           std::shared_ptr<const void> keep, std::uint64_t emitted_ns) {
    InFlightToken* token = spent_.take();
    if (!token) token = new InFlightToken();
    token->reset(this, seq, first_item, items, std::move(keep), emitted_ns);
    return Ref<InFlightToken>(token);
  }
  // The size of the source's next batch: fixed, or the sizer's choice of the moment.
  std::size_t batch_size() const noexcept { return sizer_ ? sizer_->size() : batch_size_; }
  bool times_calls() const noexcept { return sizer_.has_value(); }
  void recycle(InFlightToken* token) noexcept override { spent_.put(token); }

  // On the thread that released the batch's last part, often inside a oneTBB task after the
  // node's call ended: the run's end is ordered after it (for ThreadSanitizer: tsan.hpp).
  void batch_done(std::uint64_t seq, const BatchCost& cost) noexcept override {
    if (sizer_) sizer_->batch_done(cost);
    if (checkpointer_) checkpointer_->done(source_, seq);
    if (open_.load(std::memory_order_acquire)) {
      try {
        limiter_->decrementer().try_put(tf::continue_msg());
      } catch (...) {
        // Only a cancelled graph refuses the message, and then nothing waits for it.
      }
    }
    hand_over(this);
  }

 private:
  Checkpointer* checkpointer_;  // null: no checkpoints
  std::size_t source_;          // the source's number for the checkpointer
  std::size_t batch_size_;      // 0: chosen by sizer_
  std::optional<BatchSizer> sizer_;
  tf::limiter_node<Msg>* limiter_ = nullptr;
  std::atomic<bool> open_{true};
  FreeList<InFlightToken> spent_;
};

// How many edges leave each output port of each node: a batch sent on a port with several is
// shared by the receivers (BatchBase::shared).
std::vector<std::vector<std::size_t>> fan_out_degrees(const FlowData& flow) {
  std::vector<std::vector<std::size_t>> degree(flow.nodes.size());
  for (std::size_t id = 0; id < flow.nodes.size(); ++id)
    degree[id].assign(flow.nodes[id].impl->output_ports(), 0);
  for (const auto& e : flow.edges) ++degree[e.from][e.from_port];
  return degree;
}

// The port degree of a converter on an edge: it feeds that edge's target alone.
const std::vector<std::size_t> kOneEdge{1};

// A node with a concurrency range (NodeOptions::adaptive): a limiter_node in front of it lets
// as many calls in as the range's max, and the slots above the current limit are held back
// (a negative decrement). Each call's end releases what AdaptiveLimit says.
struct AdaptiveGate {
  explicit AdaptiveGate(const AdaptiveConcurrency& options) : limit(options) {}
  AdaptiveLimit limit;
  tf::limiter_node<Msg, long long>* limiter = nullptr;

  void call_done(const ItemCounts& counts, std::chrono::nanoseconds took) {
    if (const std::size_t release = limit.call_done(counts.in, counts.failed, took))
      limiter->decrementer().try_put(static_cast<long long>(release));
  }
};

// What the oneTBB bodies of one flow node need during a run.
struct NodeRuntime {
  static constexpr std::size_t kNoId = static_cast<std::size_t>(-1);
  std::size_t id = kNoId;  // the node's id; kNoId for converters on edges (not profiled)
  const NodeImpl* node = nullptr;
  AtomicCounts* counts = nullptr;                    // null for converters on edges
  const std::vector<std::size_t>* degree = nullptr;  // edges per output port
  std::span<ProviderBase* const> resources;          // the node's resource providers, in order
  bool serial = false;  // oneTBB runs its calls one at a time (for ThreadSanitizer: tsan.hpp)
  AdaptiveGate* adaptive = nullptr;  // nodes with a concurrency range only
};

// Nodes one oneTBB node runs in turn: one, or a fused chain (fusion.hpp).
using Chain = std::vector<const NodeRuntime*>;

// A node of the flow as oneTBB nodes: where its input ports and output ports are.
struct Compiled {
  std::vector<tf::receiver<Msg>*> inputs;
  std::vector<tf::sender<Msg>*> outputs;
};

// A node that holds items between calls (a batch node), with the outputs its flushes use, and
// the oneTBB node its timed flushes run in (so that they run on a worker of the run's arena, as
// a task the graph waits for).
struct Holder {
  const NodeRuntime* rt;
  std::vector<tf::broadcast_node<Msg>*> routes;
  tf::function_node<int, tf::continue_msg>* timed;
};

// Where one source is, published by its body for progress reports on any thread.
struct SourceProgress {
  std::atomic<std::uint64_t> items{0}, bytes{0};
  std::atomic<std::int64_t> total_bytes{-1};  // -1: unknown
};

// Ordered sink state: the parts of each sequence number that arrived ahead of their turn.
struct Reorder {
  std::uint64_t next = 0;
  std::map<std::uint64_t, std::vector<Msg>> pending;
};

// One node call's input: the number of its source batch's first item (errors name items by
// it), for the profiler when the batch became ready and when its source batch was emitted, and
// the source batch's token, to which a timed call adds its time (null: none).
struct CallInput {
  std::uint64_t first_item = 0;
  std::uint64_t ready_ns = 0;
  std::uint64_t emitted_ns = 0;
  InFlightToken* token = nullptr;
  static CallInput of(const BatchBase& batch) {
    if (!batch.token) return {0, batch.ready_ns, 0, nullptr};
    return {batch.token->first_item(), batch.ready_ns, batch.token->emitted_ns(),
            batch.token.get()};
  }
};

// Every node's counters (NodeImpl::counters), by node id.
std::vector<std::vector<NodeCounter>> counters_now(const FlowData& flow) {
  std::vector<std::vector<NodeCounter>> counters;
  for (const auto& n : flow.nodes) counters.push_back(n.impl->counters());
  return counters;
}

// How much each counter grew since `before` (a counter new since then: all of it).
std::vector<NodeCounter> grown(const std::vector<NodeCounter>& before,
                               std::vector<NodeCounter> after) {
  for (NodeCounter& c : after)
    for (const NodeCounter& b : before)
      if (b.name == c.name) c.value = c.value >= b.value ? c.value - b.value : c.value;
  return after;
}

// Profiling: whether the profiler is compiled into this Run at all. A Run<true> whose run is
// not profiled pays one branch per call; a Run<false> has no profiling code.
template <bool Profiling>
class Run final : public RunControl {
 public:
  Run(const FlowData& flow, const Plan& plan,
      const std::vector<std::vector<ProviderBase*>>& resources, const RunOptions& options)
      : flow_(flow),
        plan_(plan),
        resources_(resources),
        options_(options),
        threads_requested_(resolve_threads(options.threads)),
        threads_(std::min(threads_requested_, max_parallelism())),
        batch_size_(options.batch_size),
        in_flight_(options.max_batches_in_flight ? options.max_batches_in_flight : 4 * threads_),
        counts_(flow.nodes.size()),
        reorder_(flow.nodes.size()),
        degree_(fan_out_degrees(flow)),
        runtimes_(flow.nodes.size()),
        counters_before_(counters_now(flow)) {
    if constexpr (Profiling)
      if (options.profile) {
        profiler_ = flow.profiler ? std::move(flow.profiler) : std::make_shared<Profiler>();
        profiler_->start(flow.nodes.size(), threads_, options.trace_events);
      }
    check_batch_size(flow.name, options);
    if (!options.checkpoint.path.empty()) start_checkpoints();
  }

  // Every source must be able to resume, checked before any data moves.
  void start_checkpoints() {
    std::vector<std::string> sources;
    for (auto id : plan_.order) {
      const NodeImpl& node = *flow_.nodes[id].impl;
      if (node.holds_items())
        throw Error(fmt::format(
            "flow '{}': node '{}' holds items between calls (a batch node), so a checkpoint "
            "would commit items it has not passed on yet: checkpoints cannot be used with it",
            flow_.name, node.name()));
      if (node.kind() != NodeKind::source) continue;
      if (!node.resumable())
        throw Error(fmt::format(
            "flow '{}': source '{}' cannot resume from a checkpoint (RunOptions::checkpoint): a "
            "generator's calls cannot be replayed; use a range, a file source, or a source with "
            "open(ResumePoint) (flow/source.hpp)",
            flow_.name, node.name()));
      sources.push_back(node.name());
    }
    checkpointer_.emplace(options_.checkpoint, flow_.name, std::move(sources), stop_);
  }

  // The run's last checkpoint, whatever ended it. After a failure the NodeError matters more
  // than a checkpoint that could not be written: that is only logged.
  void write_last_checkpoint(bool failed) {
    if (!checkpointer_) return;
    try {
      checkpoint_ = checkpointer_->finish();
    } catch (const CheckpointError& e) {
      if (!failed) throw;
      log().error("{}", e.what());
    }
  }

  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;
  ~Run() {
    if constexpr (Profiling)
      if (profiler_) flow_.profiler = std::move(profiler_);
  }

  RunReport go() {
    log().debug("run of flow '{}': {} nodes, {} threads, batch size {}, {} batches in flight",
                flow_.name, flow_.nodes.size(), threads_, batch_size_, in_flight_);
    oneapi::tbb::task_arena arena(static_cast<int>(threads_));
    if (options_.deadline.count() > 0)
      timer_.at(start_ + options_.deadline, [this] {
        cancel(fmt::format("deadline of {} passed",
                           duration_text(static_cast<std::uint64_t>(options_.deadline.count()))));
      });
    try {
      // Registered inside the try: a stop already requested cancels the run at once.
      const std::stop_callback on_stop(options_.stop, [this] { cancel("stop requested"); });
      arena.execute([this] { build_and_wait(); });
    } catch (NodeError& e) {
      end_run(true);
      e.set_report(report(elapsed()));
      throw;
    }
    timer_.reset();  // a deadline still pending
    end_run(failure_ != nullptr);
    if (failure_) {
      try {
        std::rethrow_exception(failure_);
      } catch (NodeError& e) {
        e.set_report(report(elapsed()));
        throw;
      }
    }
    if (options_.progress) options_.progress(progress(true));
    return report(elapsed());
  }

  // Once the graph has drained, however: every node's finish(), in flow order, then the last
  // checkpoint, which is true only once a sink's finish() has flushed what it buffered. The
  // first finish() that throws fails the run (a NodeError whose item is the count of items the
  // node received) unless it had failed already; then it is only logged, and the checkpoint
  // is left as the run last wrote it.
  void end_run(bool failed) {
    bool finished = true;
    for (auto id : plan_.order) {
      const NodeImpl& node = *flow_.nodes[id].impl;
      try {
        node.finish();
      } catch (...) {
        finished = false;
        const std::string what = describe_current_exception();
        if (failed) {
          log().error("node '{}' failed in finish() after a failed run: {}", node.name(), what);
          continue;
        }
        failed = true;
        fail_run(node.name(), counts_[id].in.load(), what, NodeError::Stage::finish);
      }
    }
    if (finished) write_last_checkpoint(failed);
  }

  // RunControl: suspends the calling task (oneTBB resumable tasks); its thread goes on with
  // other work of the run, and the timer resumes the task, on whichever thread is free, when
  // the delay is over or the run stops. Sanitized builds block instead (suspend.hpp).
  void wait(std::chrono::nanoseconds delay) override {
    if (stop_.load(std::memory_order_relaxed)) return;
    if constexpr (kSuspendingWaits) {
      oneapi::tbb::task::suspend([&](oneapi::tbb::task::suspend_point tag) {
        timer_.at(std::chrono::steady_clock::now() + delay,
                  [tag] { oneapi::tbb::task::resume(tag); });
      });
    } else {
      std::unique_lock lock(stop_mutex_);
      stopped_.wait_for(lock, delay, [this] { return stop_.load(std::memory_order_relaxed); });
    }
  }

  // RunControl: when the delay is over, the timer's thread puts a message to the holder's
  // `timed` node, whose task (on a worker, counted by wait_for_all) runs the flush; unless the
  // run has reached its end of stream by then (flush_held() has it).
  void flush_later(const NodeImpl& node, std::chrono::nanoseconds delay) override {
    const auto holder = std::find_if(holders_.begin(), holders_.end(),
                                     [&](const Holder& h) { return h.rt->node == &node; });
    timer_.at(std::chrono::steady_clock::now() + delay, [this, timed = holder->timed] {
      std::lock_guard lock(holders_mutex_);
      if (timed_flushes_) timed->try_put(0);
    });
  }

  // Stops the run early: sources stop, nodes count what they still receive as cancelled, and
  // calls waiting to retry wake up. The first reason is the one reported.
  void stop_early(std::string reason, bool cancelled) {
    {
      std::lock_guard lock(stop_mutex_);  // also so that a blocked wait() cannot miss the stop
      if (stop_reason_.empty()) {
        stop_reason_ = std::move(reason);
        cancelled_ = cancelled;
      }
      stop_.store(true, std::memory_order_relaxed);
    }
    stopped_.notify_all();
    timer_.expire_all();
  }
  void cancel(std::string reason) { stop_early(std::move(reason), true); }

  // Inside a catch block: the run stops, and go() throws a NodeError naming `node` and
  // `item`, with the exception being handled nested in it. The first failure is the one
  // reported.
  void fail_run(const std::string& node, std::uint64_t item, const std::string& what,
                NodeError::Stage stage = NodeError::Stage::item) {
    stop_early(fmt::format("node '{}' failed", node), false);
    std::lock_guard lock(stop_mutex_);
    if (failure_) return;
    try {
      std::throw_with_nested(NodeError(node, item, what, stage));
    } catch (...) {
      failure_ = std::current_exception();
    }
  }

  // An item failed under OnError::fail (or a fan-in, branch or source body threw).
  void record_failure(const NodeRuntime& rt, const CallInput& input, const CallContext& ctx) {
    try {
      std::rethrow_exception(ctx.failure);
    } catch (...) {
      fail_run(rt.node->name(), input.first_item + ctx.failed_slot, describe_current_exception());
    }
  }

  std::chrono::nanoseconds elapsed() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                                start_);
  }

  Progress progress(bool done) const {
    Progress p;
    p.done = done;
    p.elapsed = elapsed();
    bool reads_bytes = false, totals_known = true;
    std::uint64_t total = 0;
    for (const auto& source : progress_) {
      p.items += source.items.load(std::memory_order_relaxed);
      const std::uint64_t bytes = source.bytes.load(std::memory_order_relaxed);
      const std::int64_t source_total = source.total_bytes.load(std::memory_order_relaxed);
      p.bytes += bytes;
      if (bytes == 0 && source_total < 0) continue;  // a source that reads no bytes
      reads_bytes = true;
      if (source_total < 0)
        totals_known = false;
      else
        total += static_cast<std::uint64_t>(source_total);
    }
    if (reads_bytes && totals_known) p.total_bytes = total;
    p.derive_rates();
    return p;
  }

  // Reports progress if the interval has passed since the last report; one source at a time.
  void maybe_report_progress() {
    if (!options_.progress) return;
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    const auto interval = std::chrono::nanoseconds(options_.progress_interval).count();
    auto last = last_report_.load(std::memory_order_relaxed);
    if (now - last < interval) return;
    if (!last_report_.compare_exchange_strong(last, now)) return;  // another source reports
    options_.progress(progress(false));
  }

  void build_and_wait() {
    tf::graph graph;  // built inside the arena, so its tasks run there
    std::vector<std::unique_ptr<tf::graph_node>> nodes;
    struct AfterRun {  // before the nodes release what they still buffer
      Run& run;
      ~AfterRun() {
        take_over(&run.calls_ended_);
        for (const auto& g : run.gates_) take_over(&g);
        for (auto& g : run.gates_) g.close();
        // What an ordered sink held back when the run stopped: released while the gates exist.
        for (auto& r : run.reorder_) r.pending.clear();
        // What a batch node still holds, when the run stopped or failed: cancelled.
        for (const Holder& h : run.holders_)
          h.rt->counts->cancelled.fetch_add(h.rt->node->drop_held(), std::memory_order_relaxed);
      }
    } after_run{*this};
    graph_ = &graph;
    nodes_ = &nodes;
    build();
    hand_over(&graph_built_);
    for (auto* source : sources_) source->activate();
    graph.wait_for_all();
    flush_held(graph);
  }

  // The end of the stream for nodes that hold items: each emits what it holds, upstream first,
  // and what it emitted flows on before the next one's turn. Timed flushes end first, so none
  // can race with these.
  void flush_held(tf::graph& graph) {
    {
      std::lock_guard lock(holders_mutex_);
      timed_flushes_ = false;
    }
    for (const Holder& h : holders_) {
      if (stop_.load(std::memory_order_relaxed)) return;
      flush(h, true);
      graph.wait_for_all();
    }
  }

  // One flush of a holder, as a call of its node: timed, counted, and its output sent on.
  void flush(const Holder& h, bool end_of_stream) {
    std::vector<Msg> out(h.routes.size());
    const std::uint64_t ready =
        guarded(*h.rt, {}, [&](CallContext& ctx) { h.rt->node->flush(out, ctx, end_of_stream); });
    prepare_outputs(*h.rt, out, ready);
    for (std::size_t p = 0; p < out.size(); ++p)
      if (out[p]) h.routes[p]->try_put(out[p]);
  }

  template <class Node, class... Args>
  Node& own(Args&&... args) {
    auto node = std::make_unique<Node>(std::forward<Args>(args)...);
    Node& ref = *node;
    nodes_->push_back(std::move(node));
    return ref;
  }

  // Runs one call of a node on a fresh CallContext; an exception leaves it as a NodeError
  // naming the node and item, with the body's exception nested, and stops the sources.
  // Profiled runs time the call, count a sink's batch as delivered, and return when the call
  // ended: the time its outputs became ready (0 when not timed).
  template <class Body>
  std::uint64_t guarded(const NodeRuntime& rt, const CallInput& input, Body&& body) {
    take_over(&graph_built_);
    if (rt.serial) take_over(&rt);
    CallContext ctx;
    ctx.resources = rt.resources;
    ctx.stop = &stop_;
    ctx.run = this;
    [[maybe_unused]] const bool timed = profiled() && rt.id != NodeRuntime::kNoId;
    [[maybe_unused]] std::uint64_t start = 0;
    if constexpr (Profiling)
      if (timed) start = Profiler::now();
    // A concurrency range and a batch size chosen by the run both learn from how long calls take.
    InFlightToken* const costs = batch_size_ == 0 ? input.token : nullptr;
    const bool clocked = rt.adaptive || costs;
    const auto began =
        clocked ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    auto finish = [&]() -> std::uint64_t {
      if (rt.counts) rt.counts->add(ctx.counts);
      if (clocked) {
        const auto took = std::chrono::steady_clock::now() - began;
        if (rt.adaptive) rt.adaptive->call_done(ctx.counts, took);
        if (costs) costs->add_call(static_cast<std::uint64_t>(took.count()));
      }
      std::uint64_t ended = 0;
      if constexpr (Profiling) {
        if (timed) {
          const bool sink = rt.node->output_type() == nullptr;
          ended = profiler_->end(rt.id, start, input.ready_ns, sink ? input.emitted_ns : 0,
                                 std::max(ctx.counts.in, ctx.counts.out), ctx.counts.waits.ns);
        }
      }
      if (rt.serial) hand_over(&rt);
      hand_over(&calls_ended_);
      return ended;
    };
    try {
      body(ctx);
    } catch (...) {
      // Every node kind keeps its bodies' exceptions in ctx.failure; one that still gets here
      // (std::bad_alloc in the framework, say) cancels the graph through oneTBB.
      finish();
      stop_early(fmt::format("node '{}' failed", rt.node->name()), false);
      const std::uint64_t item = input.first_item + ctx.failed_slot;
      std::throw_with_nested(NodeError(rt.node->name(), item, describe_current_exception()));
    }
    if (ctx.failure) record_failure(rt, input, ctx);
    return finish();
  }

  bool profiled() const noexcept {
    if constexpr (Profiling)
      return profiler_ != nullptr;
    else
      return false;
  }

  // Readies the batches a node emits: shared where their port fans out, and stamped with
  // `ready`, when the call that made them ended (profiled runs; for the receivers' queue wait).
  static void prepare_outputs(const NodeRuntime& rt, std::span<Msg> out, std::uint64_t ready) {
    for (std::size_t p = 0; p < out.size(); ++p) {
      if (!out[p]) continue;
      out[p]->shared = (*rt.degree)[p] > 1;
      out[p]->ready_ns = ready;
      hand_over(out[p].get());
    }
  }

  void build() {
    std::vector<Compiled> compiled(flow_.nodes.size());
    const std::vector<std::size_t> after =
        options_.fuse ? fused_after(flow_)
                      : std::vector<std::size_t>(flow_.nodes.size(), kNotFused);
    std::vector<Chain*> chain_of(flow_.nodes.size());
    for (auto id : plan_.order) {
      const NodeImpl* node = flow_.nodes[id].impl.get();
      runtimes_[id] = {
          id,
          node,
          &counts_[id],
          &degree_[id],
          resources_[id],
          node->kind() != NodeKind::source && node->concurrency() == serial,
          node->options().adaptive ? &adaptive_.emplace_back(*node->options().adaptive) : nullptr};
      if (const std::size_t before = after[id]; before != kNotFused) {
        // Called by the oneTBB node of the chain it joins, after the node before it.
        chain_of[id] = chain_of[before];
        chain_of[id]->push_back(&runtimes_[id]);
        compiled[id].outputs = compiled[before].outputs;
        continue;
      }
      chain_of[id] = &chains_.emplace_back(Chain{&runtimes_[id]});
      compiled[id] = compile(id, *chain_of[id]);
      if (runtimes_[id].adaptive)
        compiled[id].inputs[0] = &limit_calls(runtimes_[id], compiled[id]);
    }
    for (const auto& e : flow_.edges) {
      if (after[e.to] == e.from) continue;  // inside a fused chain
      tf::sender<Msg>* from = compiled[e.from].outputs.at(e.from_port);
      tf::receiver<Msg>* to = compiled[e.to].inputs.at(e.to_port);
      if (e.converter) {
        const auto& rt = runtimes_.emplace_back(
            NodeRuntime{NodeRuntime::kNoId, e.converter.get(), nullptr, &kOneEdge, {}});
        auto& node = step<Msg>(chains_.emplace_back(Chain{&rt}), tf::unlimited);
        tf::make_edge(*from, node);
        from = &node;
      }
      tf::make_edge(*from, *to);
    }
  }

  // The queue and limiter in front of a node with a concurrency range; returns the queue, the
  // node's input now. The limiter starts with the slots above the first limit held back.
  tf::receiver<Msg>& limit_calls(const NodeRuntime& rt, const Compiled& node) {
    auto& queue = own<tf::queue_node<Msg>>(*graph_);
    const std::size_t max = rt.node->options().adaptive->max;
    auto& limiter = own<tf::limiter_node<Msg, long long>>(*graph_, max);
    tf::make_edge(queue, limiter);
    tf::make_edge(limiter, *node.inputs[0]);
    rt.adaptive->limiter = &limiter;
    if (const std::size_t held = max - rt.adaptive->limit.limit())
      limiter.decrementer().try_put(-static_cast<long long>(held));
    return queue;
  }

  // `chain`: the node alone, which fused nodes may join later.
  Compiled compile(std::size_t id, const Chain& chain) {
    const NodeRuntime& rt = *chain.front();
    const NodeImpl& node = *rt.node;
    if (node.multi_port()) return multi_port(rt);
    switch (node.kind()) {
      case NodeKind::source:
        return source(rt);
      case NodeKind::fan_in:
        return fan_in(rt);
      case NodeKind::sink:
        if (node.options().ordered) return ordered_sink(rt, plan_.parts_per_seq[id], reorder_[id]);
        return {{&step<tf::continue_msg>(chain, node.concurrency())}, {}};
      default: {
        auto& n = step<Msg>(chain, node.concurrency());
        return {{&n}, {&n}};
      }
    }
  }

  Compiled source(const NodeRuntime& rt) {
    const std::size_t number = gates_.size();
    Checkpointer* checkpointer = checkpointer_ ? &*checkpointer_ : nullptr;
    auto& gate = gates_.emplace_back(checkpointer, number, batch_size_, options_.auto_batch_size);
    auto& published = progress_.emplace_back();
    const ResumePoint start = checkpointer ? checkpointer->start(number) : ResumePoint{};
    // Like every failure of a node during a run, one to open its input is a NodeError naming
    // it, with the cause (an IoError, say) nested.
    std::shared_ptr<SourceCursor> cursor;
    try {
      cursor = rt.node->open(start);
    } catch (...) {
      std::throw_with_nested(NodeError(rt.node->name(), start.items, describe_current_exception(),
                                       NodeError::Stage::open));
    }
    auto body = [this, &rt, &gate, &published, cursor, checkpointer, number, start,
                 seq = std::uint64_t{0},
                 emitted_items = std::uint64_t{0}](oneapi::tbb::flow_control& fc) mutable -> Msg {
      // oneTBB runs a source's body one call at a time, on any thread.
      take_over(cursor.get());
      struct Handover {
        const void *cursor, *calls_ended;
        ~Handover() {
          hand_over(cursor);
          hand_over(calls_ended);
        }
      } handover{cursor.get(), &calls_ended_};
      Msg batch;
      std::uint64_t emitted = 0;
      const bool stopped = stop_.load(std::memory_order_relaxed);
      // RunOptions::max_items: the sample ends here, like the input would.
      const std::size_t size = gate.batch_size();
      const std::uint64_t left = options_.max_items ? options_.max_items - emitted_items : size;
      const auto read_began = gate.times_calls() ? std::chrono::steady_clock::now()
                                                 : std::chrono::steady_clock::time_point();
      if (!stopped && left > 0)
        emitted = guarded(rt, {emitted_items}, [&](CallContext& ctx) {
          try {
            batch = cursor->next(std::min<std::uint64_t>(size, left), batches_);
          } catch (...) {  // a read error: the run stops and drains, as for a failed item
            ctx.failure = std::current_exception();
          }
        });
      if (!batch) {
        if (checkpointer && !stopped && left > 0) checkpointer->exhausted(number);
        fc.stop();
        return {};
      }
      const SourcePosition position = cursor->position();
      batch->token =
          gate.token(seq, emitted_items, batch->slots.size(), std::move(batch->keep), emitted);
      if (gate.times_calls())  // the read is the batch's first call
        batch->token->add_call(
            static_cast<std::uint64_t>((std::chrono::steady_clock::now() - read_began).count()));
      emitted_items += batch->slots.size();
      if (checkpointer)
        checkpointer->emitted(number, {position.bytes, start.items + emitted_items});
      batch->seq = seq++;
      prepare_outputs(rt, {&batch, 1}, emitted);
      rt.counts->out.fetch_add(batch->slots.size(), std::memory_order_relaxed);
      published.items.fetch_add(batch->slots.size(), std::memory_order_relaxed);
      published.bytes.store(position.bytes, std::memory_order_relaxed);
      published.total_bytes.store(
          position.total_bytes ? static_cast<std::int64_t>(*position.total_bytes) : -1,
          std::memory_order_relaxed);
      maybe_report_progress();
      return batch;
    };
    auto& input = own<tf::input_node<Msg>>(*graph_, std::move(body));
    auto& limiter = own<tf::limiter_node<Msg>>(*graph_, in_flight_);
    gate.attach(limiter);
    tf::make_edge(input, limiter);
    sources_.push_back(&input);
    return {{}, {&limiter}};
  }

  // Nodes of one input port and at most one output (Out = continue_msg: none): one node, or a
  // fused chain of them (fusion.hpp), each called on what the one before it emitted. The chain
  // may still grow while the graph is built.
  template <class Out>
  tf::function_node<Msg, Out>& step(const Chain& chain, std::size_t concurrency) {
    return own<tf::function_node<Msg, Out>>(
        *graph_, concurrency, [this, &chain](const Msg& in) -> Out {
          take_over(in.get());  // before the copy below touches its reference count
          Msg batch = in;
          for (const NodeRuntime* rt : chain) {
            Msg out;
            const std::uint64_t ready = guarded(*rt, CallInput::of(*batch), [&](CallContext& ctx) {
              rt->node->process({&batch, 1}, {&out, rt->node->output_type() ? 1u : 0u}, ctx);
            });
            if (!out) return {};                                    // a sink
            if (rt->id == NodeRuntime::kNoId) out->origin = batch;  // an edge's conversion
            prepare_outputs(*rt, {&out, 1}, ready);
            batch = std::move(out);
          }
          if constexpr (std::is_same_v<Out, Msg>)
            return batch;
          else
            return {};
        });
  }

  Compiled ordered_sink(const NodeRuntime& rt, std::size_t parts, Reorder& state) {
    auto& sink = own<tf::function_node<Msg, tf::continue_msg>>(
        *graph_, tf::serial, [this, &rt, parts, &state](const Msg& in) {
          take_over(in.get());
          take_over(&state);  // the calls are serial: each sees the last one's state
          state.pending[in->seq].push_back(in);
          for (auto it = state.pending.find(state.next);
               it != state.pending.end() && it->second.size() == parts;
               it = state.pending.find(state.next)) {
            const std::vector<Msg> ready = std::move(it->second);
            state.pending.erase(it);
            guarded(rt, CallInput::of(*ready.back()),
                    [&](CallContext& ctx) { rt.node->process(ready, {}, ctx); });
            ++state.next;
          }
          hand_over(&state);
          return tf::continue_msg();
        });
    return {{&sink}, {}};
  }

  Compiled multi_port(const NodeRuntime& rt) {
    std::vector<tf::broadcast_node<Msg>*> routes;
    Compiled c;
    for (std::size_t p = 0; p < rt.node->output_ports(); ++p) {
      routes.push_back(&own<tf::broadcast_node<Msg>>(*graph_));
      c.outputs.push_back(routes.back());
    }
    auto& n = own<tf::function_node<Msg, tf::continue_msg>>(
        *graph_, rt.node->concurrency(), [this, &rt, routes](const Msg& in) {
          take_over(in.get());
          std::vector<Msg> out(routes.size());
          const std::uint64_t ready = guarded(rt, CallInput::of(*in), [&](CallContext& ctx) {
            rt.node->process({&in, 1}, out, ctx);
          });
          prepare_outputs(rt, out, ready);
          for (std::size_t p = 0; p < routes.size(); ++p) routes[p]->try_put(out[p]);
          return tf::continue_msg();
        });
    c.inputs = {&n};
    if (rt.node->holds_items()) {
      auto& timed = own<tf::function_node<int, tf::continue_msg>>(
          *graph_, tf::serial, [this, index = holders_.size()](int) {
            std::lock_guard lock(holders_mutex_);
            if (timed_flushes_) flush(holders_[index], false);
            return tf::continue_msg();
          });
      holders_.push_back({&rt, std::move(routes), &timed});
    }
    return c;
  }

  // A key_matching join_node pairs the branches' batches of one sequence number; a function
  // node then runs the fan-in on them. One instantiation per arity.
  template <std::size_t N>
  Compiled fan_in_of(const NodeRuntime& rt) {
    return [&]<std::size_t... I>(std::index_sequence<I...>)->Compiled {
      using Parts = std::tuple<decltype((void)I, Msg())...>;
      auto key = [](const Msg& m) -> std::uint64_t { return m->seq; };
      auto& join =
          own<tf::join_node<Parts, tf::key_matching<std::uint64_t>>>(*graph_, ((void)I, key)...);
      const bool has_output = rt.node->output_type() != nullptr;
      auto body = [this, &rt, has_output](const Parts& parts) -> Msg {
        const std::array<Msg, N> in{std::get<I>(parts)...};
        for (const Msg& part : in) take_over(part.get());
        Msg out;
        // The join is ready when its last branch is.
        CallInput input = CallInput::of(*in[0]);
        for (const Msg& part : in) input.ready_ns = std::max(input.ready_ns, part->ready_ns);
        const std::uint64_t ready = guarded(rt, input, [&](CallContext& ctx) {
          rt.node->process(in, {&out, has_output ? 1u : 0u}, ctx);
        });
        prepare_outputs(rt, {&out, has_output ? 1u : 0u}, ready);
        return out;
      };
      auto& run = own<tf::function_node<Parts, Msg>>(*graph_, rt.node->concurrency(), body);
      tf::make_edge(join, run);
      Compiled c{{&tf::input_port<I>(join)...}, {}};
      if (has_output) c.outputs.push_back(&run);
      return c;
    }
    (std::make_index_sequence<N>{});
  }

  Compiled fan_in(const NodeRuntime& rt) {
    using Builder = Compiled (Run::*)(const NodeRuntime&);
    static constexpr auto builders = []<std::size_t... A>(std::index_sequence<A...>) {
      return std::array<Builder, sizeof...(A)>{&Run::template fan_in_of<A + 2>...};
    }
    (std::make_index_sequence<kMaxFanIn - 1>{});
    return (this->*builders[rt.node->input_types().size() - 2])(rt);
  }

  std::optional<AdaptiveReport> adaptive_report(std::size_t id) const {
    const AdaptiveGate* gate = runtimes_[id].adaptive;
    if (!gate) return std::nullopt;
    const auto& range = *runtimes_[id].node->options().adaptive;
    return AdaptiveReport{gate->limit.limit(), range.min, range.max, gate->limit.changes()};
  }

  RunReport report(std::chrono::nanoseconds wall) const {
    RunReport r;
    r.flow = flow_.name;
    r.threads = threads_;
    r.threads_requested = threads_requested_;
    r.batch_size = batch_size_;
    r.batch_size_chosen = batch_size_ == 0;
    if (r.batch_size_chosen && !gates_.empty()) r.batch_size = gates_.front().batch_size();
    r.wall = wall;
    {
      std::lock_guard lock(stop_mutex_);
      r.cancelled = cancelled_;
      r.stop_reason = stop_reason_;
    }
    if (checkpointer_) {
      r.resumed_from = checkpointer_->resumed_from();
      r.checkpoint = checkpoint_;
    }
    for (auto id : plan_.order) {
      const auto& c = counts_[id];
      const NodeImpl& node = *flow_.nodes[id].impl;
      r.nodes.push_back({node.name(), to_string(node.kind()), c.in.load(), c.out.load(),
                         c.filtered.load(), c.failed.load(), c.skipped.load(),
                         c.dead_lettered.load(), c.retries.load(), c.cancelled.load(),
                         c.errors.load(), c.waits.load(),
                         std::chrono::nanoseconds(c.wait_ns.load()),
                         grown(counters_before_[id], node.counters()), adaptive_report(id)});
    }
    if constexpr (Profiling)
      if (profiler_)
        r.profile = std::make_shared<const Profile>(profiler_->build(flow_, plan_, r, resources_));
    return r;
  }

  const FlowData& flow_;
  const Plan& plan_;
  const std::vector<std::vector<ProviderBase*>>& resources_;
  const RunOptions& options_;
  // What the options asked for, and what runs: oneTBB runs no more threads at once than its
  // max_allowed_parallelism (the machine's cores, unless a tbb::global_control raises it), and
  // an arena asking for more only gets a warning printed.
  const std::size_t threads_requested_;
  const std::size_t threads_;
  const std::size_t batch_size_;
  const std::size_t in_flight_;
  std::deque<AtomicCounts> counts_;
  std::deque<Reorder> reorder_;
  const std::vector<std::vector<std::size_t>> degree_;
  std::deque<NodeRuntime> runtimes_;  // per node id, then converters; stable addresses
  std::deque<Chain> chains_;          // what each step's oneTBB node calls; stable addresses
  const std::vector<std::vector<NodeCounter>> counters_before_;  // per node id
  std::optional<Checkpointer> checkpointer_;                     // runs with checkpoints only
  std::optional<Checkpoint> checkpoint_;                         // the last one written
  std::deque<SourceGate> gates_;                                 // each keeps its spent tokens
  BatchPool batches_;            // spent batches; outlives the graph, whose batches return here
  std::vector<Holder> holders_;  // in flow order
  std::deque<AdaptiveGate> adaptive_;
  std::mutex holders_mutex_;   // a timed flush against the end of stream
  bool timed_flushes_ = true;  // until the end of stream
  std::vector<tf::input_node<Msg>*> sources_;
  // ThreadSanitizer's view of oneTBB's edges (tsan.hpp): the graph is built before any call;
  // every call ends before wait_for_all returns.
  const char graph_built_ = 0, calls_ended_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex stop_mutex_;    // guards the three below
  std::condition_variable stopped_;  // wakes blocking retry waits (sanitized builds)
  std::string stop_reason_;
  bool cancelled_ = false;
  std::exception_ptr failure_;  // the NodeError of the first item failed under OnError::fail
  // Retry delays and the deadline. Declared after what its actions use, so destroyed (its
  // thread joined) before them.
  Timer timer_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::deque<SourceProgress> progress_;
  std::atomic<std::int64_t> last_report_{0};
  std::shared_ptr<Profiler> profiler_;  // profiled runs only; back to flow_ when done
  tf::graph* graph_ = nullptr;
  std::vector<std::unique_ptr<tf::graph_node>>* nodes_ = nullptr;
};

}  // namespace

std::atomic<bool> profiler_compiled_out_for_benchmarks{false};

void check_batch_size(const std::string& flow, const RunOptions& options) {
  if (options.batch_size > kMaxBatchSize)
    throw Error(
        fmt::format("flow '{}': batch_size {} is out of range (0 for the run to choose, "
                    "or 1 to {})",
                    flow, options.batch_size, kMaxBatchSize));
  if (options.batch_size != 0) return;
  const AutoBatchSize& a = options.auto_batch_size;
  if (a.min == 0 || a.min > a.max || a.max > kMaxBatchSize || a.call_target.count() <= 0)
    throw Error(
        fmt::format("flow '{}': auto_batch_size needs 1 <= min <= max <= {} and a "
                    "positive call_target; it has min {}, max {}, call_target {} us",
                    flow, kMaxBatchSize, a.min, a.max, a.call_target.count()));
}

std::size_t max_parallelism() {
  return oneapi::tbb::global_control::active_value(
      oneapi::tbb::global_control::max_allowed_parallelism);
}

std::size_t resolve_threads(std::size_t requested) {
  if (requested > 0) return requested;
  if (const std::size_t env = threads_from_environment()) return env;
  return static_cast<std::size_t>(oneapi::tbb::info::default_concurrency());
}

RunReport execute(const FlowData& flow, const Plan& plan,
                  const std::vector<std::vector<ProviderBase*>>& resources,
                  const RunOptions& options) {
  if (kProfilerCompiled && !profiler_compiled_out_for_benchmarks.load())
    return Run<true>(flow, plan, resources, options).go();
  return Run<false>(flow, plan, resources, options).go();
}

}  // namespace aetherflow::detail
