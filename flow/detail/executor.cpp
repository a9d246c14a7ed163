#include <flow/detail/executor.hpp>

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>

#include <flow/detail/checkpointer.hpp>
#include <flow/detail/cluster_run.hpp>
#include <flow/detail/duration_text.hpp>
#include <flow/detail/environment.hpp>
#include <flow/detail/log.hpp>
#include <flow/detail/operations.hpp>
#include <flow/detail/profiler.hpp>
#include <flow/detail/run/call.hpp>
#include <flow/detail/run/graph_nodes.hpp>
#include <flow/detail/run/holders.hpp>
#include <flow/detail/run/observers.hpp>
#include <flow/detail/run/progress.hpp>
#include <flow/detail/run/run_report.hpp>
#include <flow/detail/run/run_state.hpp>
#include <flow/detail/run/sources.hpp>
#include <flow/detail/run/wiring.hpp>
#include <flow/detail/signal_watch.hpp>
#include <flow/errors.hpp>

namespace aetherflow::detail {
namespace {

// The names of a flow's sources, in flow order, as its checkpoints list them.
std::vector<std::string> source_names(const FlowData& flow, const Plan& plan) {
  std::vector<std::string> names;
  for (auto id : plan.order)
    if (flow.nodes[id].impl->shape() == Shape::source) names.push_back(flow.nodes[id].impl->name());
  return names;
}

// A run's lifecycle: its parts built from the bottom up (run/), the graph built and waited
// for inside the run's arena, every node's finish(), the last checkpoint, and the report.
class Run final : public RunControl {
 public:
  Run(const FlowData& flow, const Plan& plan,
      const std::vector<std::vector<ProviderBase*>>& resources, const RunOptions& options,
      bool profile)
      : flow_(flow),
        plan_(plan),
        resources_(resources),
        options_(options),
        threads_requested_(threads_for(options)),
        threads_(std::min(threads_requested_, max_parallelism())),
        state_(flow.nodes.size()),
        cluster_(flow, plan, options, state_),
        calls_(state_, *this),
        progress_(options, state_.start()),
        checkpointer_(options.checkpoint.path.empty()
                          ? nullptr
                          : std::make_unique<Checkpointer>(
                                cluster_.checkpoint_of(options.checkpoint), flow.name,
                                source_names(flow, plan), state_.stop_flag())),
        sources_(state_, calls_, progress_, checkpointer_.get(), source_settings()),
        holders_(state_, calls_, threads_),
        profiler_(profile ? start_profiler() : nullptr),
        wiring_(wiring_inputs(), state_, calls_, sources_, holders_),
        counters_before_(flow) {
    if (options.progress) progress_.watch_nodes([this](auto& nodes) { progress_of_nodes(nodes); });
  }

  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;
  ~Run() {
    state_.timer().stop();  // no timer action runs into the parts going below
    if (profiler_) flow_.profiler = std::move(profiler_);
  }

  RunReport go() {
    log().debug("run of flow '{}': {} nodes, {} threads, batch size {}", flow_.name,
                flow_.nodes.size(), threads_, options_.batch_size);
    oneapi::tbb::task_arena arena(static_cast<int>(threads_));
    if (options_.deadline.count() > 0)
      state_.timer().at(state_.start() + options_.deadline, [this] {
        cluster_.cancel(
            fmt::format("deadline of {} passed",
                        duration_text(static_cast<std::uint64_t>(options_.deadline.count()))));
      });
    for (auto id : plan_.order)
      flow_.nodes[id].impl->begin_run({threads_, options_.batch_size, cluster_.place(id)});
    cluster_.start(checkpointer_ && checkpointer_->resumed_from().has_value());
    std::exception_ptr failure;
    try {
      // Registered inside the try: a stop already requested cancels the run at once.
      const std::stop_callback on_stop(options_.stop,
                                       [this] { cluster_.cancel("stop requested"); });
      const std::stop_callback on_drain(options_.drain,
                                        [this] { state_.drain("drain requested"); });
      std::optional<SignalWatch> signals;
      if (options_.stop_on_signals)
        signals.emplace([this](int signal, int count) {
          if (count == 1)
            state_.drain(fmt::format("{} received: drained", SignalWatch::name(signal)));
          else
            cluster_.cancel(fmt::format("{} received again: cancelled", SignalWatch::name(signal)));
        });
      arena.execute([this] { build_and_wait(); });
    } catch (NodeError& e) {
      failure = failed_outside_calls(e);
      end_run(true);
    }
    if (!failure) {
      state_.timer().reset();  // a deadline still pending
      end_run(state_.failure() != nullptr);
      failure = state_.failure();
    }
    RunReport r = cluster_.finish(report(), failure);  // throws the run's NodeError, if any
    progress_.report_done();
    return r;
  }

  // A NodeError out of the graph, not recorded by the run (a source that could not open): on a
  // cluster it names this rank, and the other ranks are told.
  std::exception_ptr failed_outside_calls(NodeError& e) {
    if (!cluster_.active() || e.rank()) return std::current_exception();
    try {
      std::throw_with_nested(
          NodeError(e.node(), e.item(), describe_current_exception(), e.stage(), cluster_.rank()));
    } catch (NodeError& named) {
      cluster_.failed_here(named);
      return std::current_exception();
    }
  }

  // RunControl
  void wait(std::chrono::nanoseconds delay) override { state_.wait(delay); }
  void await(Wakeup& wakeup, std::chrono::steady_clock::time_point deadline) override {
    state_.await(wakeup, deadline);
  }
  void flush_later(const NodeImpl& node, std::chrono::nanoseconds delay) override {
    holders_.flush_later(node, delay);
  }

 private:
  void progress_of_nodes(std::vector<NodeProgress>& nodes) const {
    for (auto id : plan_.order) {
      const NodeImpl& impl = *flow_.nodes[id].impl;
      const ItemCounts counts = state_.counts(id).load();
      NodeProgress& n = nodes.emplace_back();
      n.name = impl.name();
      n.in = counts.in;
      n.out = counts.out;
      if (const OperationGate* ops = impl.operations()) n.in_flight = ops->in_flight_now();
    }
  }

  // Batches in flight per source: four per thread. But an async node keeps its operations
  // going only with twice its max_in_flight items in the graph, so that other batches' run
  // while one's results leave: with a fixed batch size, enough batches for that; with a
  // chosen one, batches at least that large between them. Options set by the user stand.
  SourceSettings source_settings() const {
    std::size_t wanted = 0;  // items in the graph the async nodes want
    for (const auto& decl : flow_.nodes)
      if (decl.impl->traits().suspends)
        wanted = std::max(wanted, 2 * max_in_flight(decl.impl->options()));
    const auto at_least = [](std::size_t items, std::size_t per) {
      return (items + per - 1) / per;
    };
    SourceSettings s{options_.batch_size,      options_.max_batches_in_flight,
                     options_.auto_batch_size, options_,
                     cluster_.rank(),          cluster_.ranks()};
    if (s.in_flight == 0) {
      s.in_flight = 4 * threads_;
      if (options_.batch_size)
        s.in_flight = std::max(s.in_flight, at_least(wanted, options_.batch_size));
    }
    if (options_.batch_size == 0 && wanted) {
      s.sizing.min = std::clamp(at_least(wanted, s.in_flight), s.sizing.min,
                                std::max(s.sizing.min, s.sizing.max));
      s.sizing.initial = std::max(s.sizing.initial, s.sizing.min);
    }
    return s;
  }

  std::shared_ptr<Profiler> start_profiler() const {
    auto profiler = flow_.profiler ? std::move(flow_.profiler) : std::make_shared<Profiler>();
    profiler->start(flow_.nodes.size(), threads_, options_.trace_events);
    return profiler;
  }

  // Who observes calls: the profiler every node's (profiled runs), the batch-size learner
  // every call on a source batch (runs that choose their batch size). Nodes with a
  // concurrency range add their own (wiring.cpp).
  WiringInputs wiring_inputs() {
    WiringInputs in{flow_, plan_, resources_, options_.fuse, {}, {}, {}};
    if (cluster_.active())
      for (std::size_t id = 0; id < flow_.nodes.size(); ++id)
        in.stand_ins.push_back(cluster_.replacement(id));
    if (profiler_) in.node_calls.push_back(profiler_.get());
    if (options_.batch_size == 0) {
      in.node_calls.push_back(&batch_costs_);
      in.edge_calls.push_back(&batch_costs_);
    }
    return in;
  }

  void build_and_wait() {
    tf::graph graph;  // built inside the arena, so its tasks run there
    GraphNodes nodes(graph);
    struct AfterRun {  // before the nodes release what they still buffer
      Run& run;
      ~AfterRun() {
        run.calls_.calls_ended();
        run.sources_.close();
        run.wiring_.release_held_back();
        run.holders_.drop_held();
      }
    } after_run{*this};
    wiring_.build(nodes);
    calls_.graph_built();
    sources_.activate();
    graph.wait_for_all();
    state_.graph_drained();
    holders_.flush_held(graph);
    cluster_.gather_sinks(calls_, wiring_);
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
        state_.fail(node.name(), state_.counts(id).load().in, what, NodeError::Stage::finish);
      }
    }
    if (finished) write_last_checkpoint(failed);
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

  RunReport report() const {
    RunFacts facts;
    facts.threads = threads_;
    facts.threads_requested = threads_requested_;
    facts.batch_size = options_.batch_size;
    facts.chosen_batch_size = sources_.first_batch_size();
    if (checkpointer_) {
      facts.resumed_from = checkpointer_->resumed_from();
      facts.checkpoint = checkpoint_;
    }
    RunReport r = make_report(flow_, plan_, state_, wiring_, counters_before_, facts);
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
  // The parts of the run, each built on those above it.
  RunState state_;
  ClusterRun cluster_;  // does nothing without a cluster of several ranks
  Calls calls_;
  RunProgress progress_;
  const std::unique_ptr<Checkpointer> checkpointer_;  // runs with checkpoints only
  Sources sources_;
  Holders holders_;
  BatchCostObserver batch_costs_;
  std::shared_ptr<Profiler> profiler_;  // profiled runs only; back to flow_ when done
  Wiring wiring_;
  const CountersBefore counters_before_;
  std::optional<Checkpoint> checkpoint_;  // the last one written
};

}  // namespace

std::atomic<bool> profiler_compiled_out_for_benchmarks{false};

std::size_t max_parallelism() {
  return oneapi::tbb::global_control::active_value(
      oneapi::tbb::global_control::max_allowed_parallelism);
}

// On a cluster, a rank's share of its machine's cores, unless the run or the environment says.
std::size_t threads_for(const RunOptions& options) {
  if (options.threads > 0 || threads_from_environment() > 0 || !options.cluster ||
      options.cluster->size() <= 1)
    return resolve_threads(options.threads);
  const std::size_t sharing = std::max<std::size_t>(options.cluster->ranks_on_this_machine(), 1);
  return std::max<std::size_t>(resolve_threads(0) / sharing, 1);
}

std::size_t resolve_threads(std::size_t requested) {
  if (requested > 0) return requested;
  if (const std::size_t env = threads_from_environment()) return env;
  return static_cast<std::size_t>(oneapi::tbb::info::default_concurrency());
}

RunReport execute(const FlowData& flow, const Plan& plan,
                  const std::vector<std::vector<ProviderBase*>>& resources,
                  const RunOptions& options) {
  const bool profile =
      options.profile && kProfilerCompiled && !profiler_compiled_out_for_benchmarks.load();
  return Run(flow, plan, resources, options, profile).go();
}

}  // namespace aetherflow::detail
