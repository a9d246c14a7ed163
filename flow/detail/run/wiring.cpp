#include <flow/detail/run/wiring.hpp>

#include <algorithm>
#include <array>
#include <tuple>
#include <utility>

#include <flow/detail/fusion.hpp>

namespace aetherflow::detail {
namespace {

// How many edges leave each output port of each node: a batch sent on a port with several is
// shared by the receivers (BatchBase::shared).
std::vector<std::vector<std::size_t>> fan_out_degrees(const FlowData& flow) {
  std::vector<std::vector<std::size_t>> degree(flow.nodes.size());
  for (std::size_t id = 0; id < flow.nodes.size(); ++id)
    degree[id].assign(flow.nodes[id].impl->output_ports(), 0);
  for (const auto& e : flow.edges) ++degree[e.from][e.from_port];
  return degree;
}

// The port degree of a conversion on an edge: it feeds that edge's target alone.
const std::vector<std::size_t> kOneEdge{1};

}  // namespace

Wiring::Wiring(WiringInputs in, RunState& state, Calls& calls, Sources& sources, Holders& holders)
    : in_(std::move(in)),
      state_(state),
      calls_(calls),
      sources_(sources),
      holders_(holders),
      degree_(fan_out_degrees(in_.flow)),
      runtimes_(in_.flow.nodes.size()),
      adaptive_of_(in_.flow.nodes.size(), nullptr) {}

void Wiring::build(GraphNodes& graph) {
  const FlowData& flow = in_.flow;
  std::vector<Wired> wired(flow.nodes.size());
  const std::vector<std::size_t> after =
      in_.fuse ? fused_after(flow) : std::vector<std::size_t>(flow.nodes.size(), kNotFused);
  std::vector<Chain*> chain_of(flow.nodes.size());
  for (auto id : in_.plan.order) {
    const NodeImpl* node = id < in_.stand_ins.size() && in_.stand_ins[id]
                               ? in_.stand_ins[id]
                               : flow.nodes[id].impl.get();
    NodeRuntime& rt = runtimes_[id];
    rt = {id,
          node,
          &state_.counts(id),
          &degree_[id],
          in_.resources[id],
          node->shape() != Shape::source && node->concurrency() == serial,
          in_.node_calls};
    AdaptiveGate* gate = nullptr;
    if (const auto& range = node->options().adaptive) {
      gate = &adaptive_.emplace_back(*range);
      adaptive_of_[id] = gate;
      rt.observers.push_back(gate);
    }
    if (const std::size_t before = after[id]; before != kNotFused) {
      // Called by the oneTBB node of the chain it joins, after the node before it.
      chain_of[id] = chain_of[before];
      chain_of[id]->push_back(&rt);
      wired[id].outputs = wired[before].outputs;
      continue;
    }
    chain_of[id] = &chains_.emplace_back(Chain{&rt});
    wired[id] = wire(graph, id, *chain_of[id]);
    if (gate)
      wired[id].inputs[0] = &gate->wire(graph, *wired[id].inputs[0], node->options().adaptive->max);
  }
  for (const auto& e : flow.edges) {
    if (after[e.to] == e.from) continue;  // inside a fused chain
    tf::sender<Msg>* from = wired[e.from].outputs.at(e.from_port);
    tf::receiver<Msg>* to = wired[e.to].inputs.at(e.to_port);
    if (e.converter) {
      const auto& rt = runtimes_.emplace_back(NodeRuntime{
          NodeRuntime::kNoId, e.converter.get(), nullptr, &kOneEdge, {}, false, in_.edge_calls});
      auto& node = step<Msg>(graph, chains_.emplace_back(Chain{&rt}), tf::unlimited);
      tf::make_edge(*from, node);
      from = &node;
    }
    tf::make_edge(*from, *to);
  }
}

void Wiring::release_held_back() noexcept {
  for (auto& r : reorders_) r.pending.clear();
}

// `chain`: the node alone, which fused nodes may join later.
Wired Wiring::wire(GraphNodes& graph, std::size_t id, const Chain& chain) {
  const NodeRuntime& rt = *chain.front();
  const NodeImpl& node = *rt.node;
  switch (node.shape()) {
    case Shape::source:
      return sources_.wire(graph, rt);
    case Shape::join:
      return join(graph, rt);
    case Shape::routes:
      return routes(graph, rt);
    case Shape::ordered:
      return ordered(graph, rt, in_.plan.parts_per_seq[id]);
    case Shape::step:
      break;
  }
  if (!node.output_type()) return {{&step<tf::continue_msg>(graph, chain, node.concurrency())}, {}};
  auto& n = step<Msg>(graph, chain, node.concurrency());
  return {{&n}, {&n}};
}

// Nodes of one input port and at most one output (Out = continue_msg: none): one node, or a
// fused chain of them (fusion.hpp), each called on what the one before it emitted. The chain
// may still grow while the graph is built.
template <class Out>
tf::function_node<Msg, Out>& Wiring::step(GraphNodes& graph, const Chain& chain,
                                          std::size_t concurrency) {
  return graph.make<tf::function_node<Msg, Out>>(concurrency, [this, &chain](const Msg& in) -> Out {
    take_over(in.get());  // before the copy below touches its reference count
    Msg batch = in;
    for (const NodeRuntime* rt : chain) {
      Msg out;
      const std::uint64_t ready = calls_.guarded(*rt, CallInput::of(*batch), [&](CallContext& ctx) {
        rt->node->process({&batch, 1}, {&out, rt->node->output_type() ? 1u : 0u}, ctx);
      });
      if (!out) return {};                                    // a sink
      if (rt->id == NodeRuntime::kNoId) out->origin = batch;  // an edge's conversion
      Calls::prepare_outputs(*rt, {&out, 1}, ready);
      batch = std::move(out);
    }
    if constexpr (std::is_same_v<Out, Msg>)
      return batch;
    else
      return {};
  });
}

Wired Wiring::ordered(GraphNodes& graph, const NodeRuntime& rt, std::size_t parts) {
  Reorder& state = reorders_.emplace_back();
  auto& sink = graph.make<tf::function_node<Msg, tf::continue_msg>>(
      tf::serial, [this, &rt, parts, &state](const Msg& in) {
        take_over(in.get());
        take_over(&state);  // the calls are serial: each sees the last one's state
        state.pending[in->seq].push_back(in);
        for (auto it = state.pending.find(state.next);
             it != state.pending.end() && it->second.size() == parts;
             it = state.pending.find(state.next)) {
          const std::vector<Msg> ready = std::move(it->second);
          state.pending.erase(it);
          calls_.guarded(rt, CallInput::of(*ready.back()),
                         [&](CallContext& ctx) { rt.node->process(ready, {}, ctx); });
          ++state.next;
        }
        hand_over(&state);
        return tf::continue_msg();
      });
  return {{&sink}, {}};
}

Wired Wiring::routes(GraphNodes& graph, const NodeRuntime& rt) {
  std::vector<tf::broadcast_node<Msg>*> routes;
  Wired w;
  for (std::size_t p = 0; p < rt.node->output_ports(); ++p) {
    routes.push_back(&graph.make<tf::broadcast_node<Msg>>());
    w.outputs.push_back(routes.back());
  }
  auto& n = graph.make<tf::function_node<Msg, tf::continue_msg>>(
      rt.node->concurrency(), [this, &rt, routes](const Msg& in) {
        take_over(in.get());
        std::vector<Msg> out(routes.size());
        const std::uint64_t ready = calls_.guarded(rt, CallInput::of(*in), [&](CallContext& ctx) {
          rt.node->process({&in, 1}, out, ctx);
        });
        Calls::prepare_outputs(rt, out, ready);
        for (std::size_t p = 0; p < routes.size(); ++p)
          if (out[p]) routes[p]->try_put(out[p]);  // a holder may emit nothing in a call
        return tf::continue_msg();
      });
  w.inputs = {&n};
  if (rt.node->holds_items()) holders_.add(graph, rt, std::move(routes));
  return w;
}

// A key_matching join_node pairs the branches' batches of one sequence number; a function
// node then runs the fan-in on them. One instantiation per arity.
template <std::size_t N>
Wired Wiring::join_of(GraphNodes& graph, const NodeRuntime& rt) {
  return [&]<std::size_t... I>(std::index_sequence<I...>)->Wired {
    using Parts = std::tuple<decltype((void)I, Msg())...>;
    auto key = [](const Msg& m) -> std::uint64_t { return m->seq; };
    auto& join =
        graph.make<tf::join_node<Parts, tf::key_matching<std::uint64_t>>>(((void)I, key)...);
    const bool has_output = rt.node->output_type() != nullptr;
    auto body = [this, &rt, has_output](const Parts& parts) -> Msg {
      const std::array<Msg, N> in{std::get<I>(parts)...};
      for (const Msg& part : in) take_over(part.get());
      Msg out;
      // The join is ready when its last branch is.
      CallInput input = CallInput::of(*in[0]);
      for (const Msg& part : in) input.ready = std::max(input.ready, part->ready_ns);
      const std::uint64_t ready = calls_.guarded(rt, input, [&](CallContext& ctx) {
        rt.node->process(in, {&out, has_output ? 1u : 0u}, ctx);
      });
      Calls::prepare_outputs(rt, {&out, has_output ? 1u : 0u}, ready);
      return out;
    };
    auto& run = graph.make<tf::function_node<Parts, Msg>>(rt.node->concurrency(), body);
    tf::make_edge(join, run);
    Wired w{{&tf::input_port<I>(join)...}, {}};
    if (has_output) w.outputs.push_back(&run);
    return w;
  }
  (std::make_index_sequence<N>{});
}

Wired Wiring::join(GraphNodes& graph, const NodeRuntime& rt) {
  using Builder = Wired (Wiring::*)(GraphNodes&, const NodeRuntime&);
  static constexpr auto builders = []<std::size_t... A>(std::index_sequence<A...>) {
    return std::array<Builder, sizeof...(A)>{&Wiring::template join_of<A + 2>...};
  }
  (std::make_index_sequence<kMaxJoinInputs - 1>{});
  return (this->*builders[rt.node->input_types().size() - 2])(graph, rt);
}

}  // namespace aetherflow::detail
