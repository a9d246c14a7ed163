#include <flow/detail/cluster_run.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>
#include <cereal/archives/binary.hpp>
#include <cereal/types/chrono.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>

#include <flow/detail/log.hpp>
#include <flow/detail/profile_merge.hpp>
#include <flow/detail/run/atomic_counts.hpp>
#include <flow/profile.hpp>
#include <flow/wire.hpp>

// What a report carries from rank to rank (not its profile).
namespace aetherflow {
template <class A>
void serialize(A& a, ItemCounts& c) {
  ItemCounts::each(c, [&](auto& count) { a(count); });
}
template <class A>
void serialize(A& a, NodeCounter& c) {
  a(c.name, c.value);
}
template <class A>
void serialize(A& a, AdaptiveReport& r) {
  a(r.limit, r.min, r.max, r.changes);
}
template <class A>
void serialize(A& a, ShardLoad& s) {
  a(s.keys, s.items, s.rank);
}
template <class A>
void serialize(A& a, OperationsReport& o) {
  a(o.max_in_flight, o.peak_in_flight, o.started, o.completed, o.timed_out, o.abandoned, o.late);
}
template <class A>
void serialize(A& a, NodeReport& n) {
  a(static_cast<ItemCounts&>(n), n.name, n.kind, n.counters, n.adaptive, n.shards, n.operations);
}
template <class A>
void serialize(A& a, ResumePoint& p) {
  a(p.offset, p.items);
}
template <class A>
void serialize(A& a, SourceCheckpoint& s) {
  a(s.source, s.committed, s.finished);
}
template <class A>
void serialize(A& a, Checkpoint& c) {
  a(c.flow, c.sources);
}
template <class A>
void serialize(A& a, RunReport& r) {
  a(r.flow, r.threads, r.threads_requested, r.batch_size, r.batch_size_chosen, r.wall, r.nodes,
    r.cancelled, r.stop_reason, r.resumed_from, r.checkpoint, r.rank, r.ranks);
}
}  // namespace aetherflow

namespace aetherflow::detail {
namespace {

constexpr int kControlChannel = 0;

// A failure, as ranks tell each other: enough to throw the same NodeError everywhere.
struct Failure {
  std::size_t rank = 0;
  std::string node;
  std::uint64_t item = 0;
  int stage = 0;
  std::string what;  // the cause, as NodeError was given it
  template <class A>
  void serialize(A& a) {
    a(rank, node, item, stage, what);
  }
  NodeError error() const {
    return NodeError(node, item, what, static_cast<NodeError::Stage>(stage), rank);
  }
};

// A stop asked of one rank (its stop token, its deadline): every rank cancels, with its reason.
struct Stop {
  std::string reason;  // names the rank: "rank 1: stop requested"
  template <class A>
  void serialize(A& a) {
    a(reason);
  }
};

// What the control channel carries: a failure or a stop, of the run numbered `run`.
struct ControlMessage {
  std::uint64_t run = 0;  // Cluster::next_run()
  std::variant<Failure, Stop> what;
  template <class A>
  void serialize(A& a) {
    a(run, what);
  }
};

// How a rank's run ended: its failure if it failed (`own`: on this rank, not told by another).
struct Ending {
  bool failed = false;
  bool own = false;
  Failure failure;
  RunReport report;
  std::string profile;  // the rank's profile as JSON (to_json), profiled runs only
  template <class A>
  void serialize(A& a) {
    a(failed, own, failure, report, profile);
  }
};

template <class T>
Bytes encode(T& value) {
  Bytes bytes;
  BytesStream buffer(bytes);
  std::ostream stream(&buffer);
  {
    cereal::BinaryOutputArchive archive(stream);
    archive(value);
  }
  return bytes;
}

template <class T>
T decode(const Bytes& bytes) {
  T value;
  BytesStream buffer(bytes, 0);
  std::istream stream(&buffer);
  cereal::BinaryInputArchive archive(stream);
  archive(value);
  return value;
}

// The cause a NodeError was made with: its nested exception, described.
std::string cause_of(const NodeError& error) {
  try {
    std::rethrow_if_nested(error);
  } catch (...) {
    return describe_current_exception();
  }
  return error.what();
}

Failure failure_of(const NodeError& error, std::size_t rank) {
  return {error.rank().value_or(rank), error.node(), error.item(), static_cast<int>(error.stage()),
          cause_of(error)};
}

// Everything that makes two ranks' runs the same run, one line each: ranks that disagree
// are told the first line that differs.
std::vector<std::string> describe_plan(const FlowData& flow, const Plan& plan,
                                       const RunOptions& options) {
  std::vector<std::string> lines;
  lines.push_back(fmt::format("flow '{}' of {} nodes and {} edges", flow.name, flow.nodes.size(),
                              flow.edges.size()));
  for (auto id : plan.order) {
    const NodeImpl& n = *flow.nodes[id].impl;
    const NodeOptions& o = n.options();
    lines.push_back(fmt::format(
        "node {} '{}': {} of {} into {}, concurrency {}, ordered {}, on_error {}, gathered {}, "
        "on_ranks {}",
        id, n.name(), n.traits().label,
        n.input_types().empty() ? "-" : type_name(*n.input_types()[0]),
        n.output_type() ? type_name(*n.output_type()) : "-", n.concurrency(), o.ordered,
        static_cast<int>(o.on_error), o.gathered,
        n.shape() == Shape::source ? static_cast<int>(n.on_ranks()) : -1));
  }
  for (const auto& e : flow.edges)
    lines.push_back(fmt::format("edge '{}' port {} -> '{}' port {}",
                                flow.nodes[e.from].impl->name(), e.from_port,
                                flow.nodes[e.to].impl->name(), e.to_port));
  lines.push_back(fmt::format("batch size {}, max items {}, checkpoints {}", options.batch_size,
                              options.max_items, !options.checkpoint.path.empty()));
  return lines;
}

// The job's report from every rank's: counts summed, walls the longest, every rank's kept.
RunReport merge(std::vector<RunReport> each) {
  RunReport job = each.front();
  job.threads = job.threads_requested = 0;
  job.rank = 0;
  job.ranks = each.size();
  for (auto& n : job.nodes) n = NodeReport{ItemCounts{}, n.name, n.kind, {}, n.adaptive, {}, {}};
  for (const RunReport& r : each) {
    job.threads += r.threads;
    job.threads_requested += r.threads_requested;
    job.wall = std::max(job.wall, r.wall);
    job.cancelled = job.cancelled || r.cancelled;
    if (job.stop_reason.empty()) job.stop_reason = r.stop_reason;
    for (std::size_t i = 0; i < job.nodes.size() && i < r.nodes.size(); ++i) {
      NodeReport& into = job.nodes[i];
      const NodeReport& from = r.nodes[i];
      AtomicItemCounts sum;
      sum.add(into);
      sum.add(from);
      static_cast<ItemCounts&>(into) = sum.load();
      add_counters(into.counters, from.counters);
      add_shards(into.shards, from.shards, static_cast<std::uint32_t>(r.rank));
      add_operations(into.operations, from.operations);
    }
  }
  job.per_rank = std::move(each);
  return job;
}

}  // namespace

// The control channel: another rank's failure, or a stop asked of it, stops this rank's run.
// A message of another run (one that rank's previous run sent as it ended) is dropped.
class ClusterRun::Control final : public Receiver {
 public:
  Control(RunState& state, std::uint64_t run) : state_(state), run_(run) {}
  bool has_room() const override { return true; }
  void deliver(std::size_t from, Bytes bytes) override {
    try {
      const auto message = decode<ControlMessage>(bytes);
      if (message.run != run_) {
        log().debug("run {}: dropped what rank {} told of its run {}", run_, from, message.run);
        return;
      }
      if (const auto* failure = std::get_if<Failure>(&message.what))
        state_.fail_remote(failure->error());
      else
        state_.cancel(std::get<Stop>(message.what).reason);
    } catch (const std::exception& e) {
      log().error("what another rank told of could not be read: {}", e.what());
    }
  }

 private:
  RunState& state_;
  std::uint64_t run_;
};

// On ranks other than 0, a gathered sink's place in the graph: it sends its items to rank 0,
// in the order its calls get them (source order for an ordered sink), and consumes none.
class ClusterRun::GatherSender final : public NodeImpl {
 public:
  GatherSender(const NodeImpl& sink, Exchange& exchange)
      : NodeImpl(sink.name(), sink.traits(), sink.options()), sink_(sink), exchange_(exchange) {
    inputs_ = sink.input_types();
  }
  Shape shape() const override { return sink_.shape(); }
  void process(std::span<const BatchHandle> in, std::span<BatchHandle>,
               CallContext& ctx) const override {
    std::size_t n = 0;
    for (const auto& b : in) n += b->slots.size();
    exchange_.add(0, n, [&](Bytes& bytes) { sink_.input_wire()->write(in, bytes); }, {});
    ctx.counts.in += n;
    ctx.counts.sent += n;
  }

 private:
  const NodeImpl& sink_;
  Exchange& exchange_;
};

ClusterRun::ClusterRun(const FlowData& flow, const Plan& plan, const RunOptions& options,
                       RunState& state)
    : flow_(flow), plan_(plan), state_(state) {
  if (!options.cluster || options.cluster->size() <= 1) return;
  if (static_cast<std::size_t>(options.cluster->max_channel()) < flow.nodes.size())
    throw FlowError(flow.name,
                    {fmt::format("a cluster run gives each node a channel, and the "
                                 "transport carries {} channels for {} nodes",
                                 options.cluster->max_channel() + 1, flow.nodes.size())});
  cluster_ = options.cluster;
  rank_ = cluster_->rank();
  ranks_ = cluster_->size();
  state_.set_rank(rank_);
  state_.on_local_failure([this](const NodeError& e) { tell_others(e); });
  run_ = cluster_->next_run();
  control_ = std::make_unique<Control>(state_, run_);
  cluster_->open(kControlChannel, *control_);
  gathered_.resize(flow.nodes.size());
  senders_.resize(flow.nodes.size());
  // Unbounded on rank 0, which takes the items only once its own are done; the senders'
  // credits keep what is on its way bounded.
  for (std::size_t id = 0; id < flow.nodes.size(); ++id) {
    const NodeImpl& node = *flow.nodes[id].impl;
    if (!node.options().gathered) continue;
    gathered_[id] = std::make_unique<Exchange>(place(id), ExchangeLimits{.inbox = 0});
    if (rank_ != 0) senders_[id] = std::make_shared<GatherSender>(node, *gathered_[id]);
  }
  plan_lines_ = describe_plan(flow, plan, options);
}

ClusterRun::~ClusterRun() {
  gathered_.clear();
  if (control_) cluster_->close(kControlChannel, *control_);
}

std::size_t ClusterRun::ranks_on_this_machine() const {
  return cluster_ ? std::max<std::size_t>(cluster_->ranks_on_this_machine(), 1) : 1;
}

ClusterPlace ClusterRun::place(std::size_t node) const {
  if (!cluster_) return {};
  return {cluster_.get(), rank_, ranks_, static_cast<int>(1 + node), &state_.stop_flag(), run_};
}

const NodeImpl* ClusterRun::replacement(std::size_t id) const {
  return cluster_ && senders_[id] ? senders_[id].get() : nullptr;
}

CheckpointOptions ClusterRun::checkpoint_of(const CheckpointOptions& options) const {
  CheckpointOptions mine = options;
  if (cluster_ && !options.path.empty()) mine.path += fmt::format(".rank{}-of-{}", rank_, ranks_);
  return mine;
}

void ClusterRun::start(bool resuming) {
  if (!cluster_) return;
  std::string mine;
  for (const auto& line : plan_lines_) mine += line + '\n';
  // Every rank resumes, or none: a job is restarted whole (its checkpoint files all there).
  mine += fmt::format("resuming from a checkpoint: {}\n", resuming ? "yes" : "no");
  const auto* b = reinterpret_cast<const std::byte*>(mine.data());
  const std::vector<Bytes> all = cluster_->all_gather(Bytes(b, b + mine.size()));
  std::vector<std::string> problems;
  const std::string first(reinterpret_cast<const char*>(all[0].data()), all[0].size());
  for (std::size_t r = 1; r < all.size(); ++r) {
    const std::string other(reinterpret_cast<const char*>(all[r].data()), all[r].size());
    if (other == first) continue;
    std::istringstream a(first), o(other);
    std::string la, lo;
    while (std::getline(a, la) && std::getline(o, lo) && la == lo) {
    }
    problems.push_back(fmt::format(
        "rank {} runs another flow than rank 0 (every rank must declare the same nodes, edges "
        "and run options): rank 0 has `{}`, rank {} has `{}`",
        r, la.empty() ? "(nothing more)" : la, r, lo == la ? "(nothing more)" : lo));
  }
  if (!problems.empty()) throw FlowError(flow_.name, std::move(problems));
}

void ClusterRun::gather_sinks(Calls& calls, const Wiring& wiring) {
  if (!cluster_) return;
  for (auto id : plan_.order) {
    if (!gathered_[id]) continue;
    Exchange& exchange = *gathered_[id];
    if (rank_ != 0) {
      exchange.end_stream({});
      continue;
    }
    const NodeRuntime& rt = wiring.runtime(id);
    const ItemWire& wire = *rt.node->input_wire();
    for (std::size_t from = 1; from < ranks_; ++from) {
      while (!state_.stopping()) {
        std::optional<Exchange::Message> m = exchange.take(from);
        if (!m) {
          if (exchange.ended(from)) break;
          exchange.wait(std::chrono::milliseconds(10), from);
          continue;
        }
        const BatchHandle batch = wire.read(m->bytes, m->offset, m->items);
        calls.guarded(rt, {}, [&](CallContext& ctx) {
          rt.node->process({&batch, 1}, {}, ctx);
          ctx.counts.in -= m->items;
          ctx.counts.received += m->items;
        });
      }
    }
  }
}

void ClusterRun::tell_others(const NodeError& error) {
  ControlMessage failure{run_, failure_of(error, rank_)};
  tell_others(encode(failure));
}

void ClusterRun::tell_others(Bytes message) {
  auto bytes = std::make_shared<const Bytes>(std::move(message));
  for (std::size_t r = 0; r < ranks_; ++r)
    if (r != rank_) cluster_->send(r, kControlChannel, bytes, {});
}

void ClusterRun::failed_here(const NodeError& error) {
  if (cluster_) tell_others(error);
}

void ClusterRun::cancel(const std::string& reason) {
  if (!cluster_) {
    state_.cancel(reason);
    return;
  }
  std::string named = fmt::format("rank {}: {}", rank_, reason);
  // Only a stop of this rank's own: not the deadline's action, which a stop (maybe another
  // rank's) runs at once, nor a second stop.
  if (!state_.cancel(named)) return;
  ControlMessage stop{run_, Stop{std::move(named)}};
  tell_others(encode(stop));
}

RunReport ClusterRun::finish(RunReport mine, std::exception_ptr failure) {
  mine.rank = rank_;
  mine.ranks = ranks_;
  if (!cluster_) {
    if (failure) {
      try {
        std::rethrow_exception(failure);
      } catch (NodeError& e) {
        e.set_report(std::move(mine));
        throw;
      }
    }
    return mine;
  }
  Ending ending;
  ending.report = mine;
  if (mine.profile) ending.profile = to_json(*mine.profile);
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const NodeError& e) {
      ending.failed = true;
      ending.own = e.rank().value_or(rank_) == rank_;
      ending.failure = failure_of(e, rank_);
    } catch (const std::exception& e) {
      ending.failed = ending.own = true;
      ending.failure = {rank_, "", 0, static_cast<int>(NodeError::Stage::item),
                        describe_exception(failure)};
    }
  }
  std::vector<Ending> all;
  for (const Bytes& bytes : cluster_->all_gather(encode(ending)))
    all.push_back(decode<Ending>(bytes));
  RunReport report = mine;
  if (rank_ == 0) {
    std::vector<RunReport> each;
    std::vector<Profile> profiles;
    for (auto& e : all) {
      if (!e.profile.empty()) {
        profiles.push_back(profile_from_json(e.profile));
        e.report.profile = std::make_shared<const Profile>(profiles.back());
      }
      each.push_back(std::move(e.report));
    }
    report = merge(std::move(each));
    if (!profiles.empty())
      report.profile = std::make_shared<const Profile>(merge_profiles(profiles));
  }
  // The first rank that failed on its own, else (all told by another) the first that failed.
  const Ending* first = nullptr;
  for (const auto& e : all)
    if (e.failed && e.own && !first) first = &e;
  for (const auto& e : all)
    if (e.failed && !first) first = &e;
  if (!first) return report;
  if (failure && first->failure.rank == rank_) {
    try {
      std::rethrow_exception(failure);
    } catch (NodeError& e) {
      e.set_report(std::move(report));
      throw;
    }
  }
  NodeError error = first->failure.error();
  error.set_report(std::move(report));
  throw error;
}

}  // namespace aetherflow::detail
