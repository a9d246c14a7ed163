#include <flow/detail/plan.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <queue>
#include <set>

#include <fmt/format.h>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/strong_components.hpp>
#include <boost/graph/topological_sort.hpp>

#include <flow/detail/error_policy.hpp>
#include <flow/detail/type_name.hpp>
#include <flow/errors.hpp>

namespace aetherflow::detail {
namespace {

// The Boost.Graph model of a flow: vertex i is node i; each edge carries its index in
// FlowData::edges.
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS,
                                    boost::no_property, std::size_t>;

Graph model(const FlowData& flow) {
  Graph g(flow.nodes.size());
  for (std::size_t e = 0; e < flow.edges.size(); ++e)
    boost::add_edge(flow.edges[e].from, flow.edges[e].to, e, g);
  return g;
}

std::string quoted(const NodeImpl& node) {
  return "'" + node.name() + "'";
}

// NodeOptions::on_ranks and gathered (docs/distributed.md) name what they apply to.
void check_cluster_options(const NodeImpl& node, std::vector<std::string>& problems) {
  const bool source = node.shape() == Shape::source;
  if (node.options().on_ranks && !source)
    problems.push_back(
        fmt::format("{} has on_ranks but is not a source: only sources choose "
                    "the ranks that run them",
                    quoted(node)));
  if (source && node.options().on_ranks == OnRanks::split && !node.splits())
    problems.push_back(fmt::format(
        "source {} cannot split its input between ranks (on_ranks = split): ranges with a size, "
        "file sources and sources with open(ResumePoint, Shard) can (flow/source.hpp); use "
        "rank_zero, or each_rank for a source that reads its own rank's input",
        quoted(node)));
  if (node.options().gathered && (node.output_ports() > 0 || source))
    problems.push_back(fmt::format(
        "{} is gathered but is not a sink: only sinks gather every rank's items", quoted(node)));
}

// NodeOptions::max_in_flight and operation_timeout (flow/async.hpp) likewise.
void check_operation_options(const NodeImpl& node, std::vector<std::string>& problems) {
  const NodeOptions& o = node.options();
  if (!node.traits().suspends && (o.max_in_flight || o.operation_timeout.count() != 0))
    problems.push_back(fmt::format(
        "{} has max_in_flight or operation_timeout but is not an async node: only async nodes "
        "(aetherflow::async, flow/async.hpp) start operations",
        quoted(node)));
  if (o.max_in_flight == 0u)
    problems.push_back(fmt::format(
        "{} has max_in_flight = 0: at least one operation must be able to run", quoted(node)));
  if (o.operation_timeout.count() < 0)
    problems.push_back(fmt::format("{} has a negative operation_timeout", quoted(node)));
}

std::string type_of(const std::type_info* type) {
  return type ? type_name(*type) : "nothing";
}

// Names an output port for messages: "'parse'" or "route 'GET' of 'by_method'".
std::string output_name(const NodeImpl& node, std::size_t port) {
  if (const char* noun = node.traits().port_noun)
    return fmt::format("{} '{}' of {} {}", noun, node.port_label(port), node.traits().noun,
                       quoted(node));
  if (const std::string label = node.port_label(port); !label.empty())
    return fmt::format("{} of {}", label, quoted(node));
  return quoted(node);
}

// A concurrency range needs a sound range, and a node the executor can put a limiter in front
// of: one input, no reordering, no flushes outside its calls.
void check_adaptive(const FlowData& flow, std::vector<std::string>& problems) {
  for (const auto& decl : flow.nodes) {
    const NodeImpl& node = *decl.impl;
    const auto& adaptive = node.options().adaptive;
    if (!adaptive) continue;
    if (node.options().concurrency)
      problems.push_back(fmt::format(
          "{} sets both concurrency and adaptive: give a fixed limit or a range", quoted(node)));
    if (adaptive->min == 0 || adaptive->min > adaptive->max || adaptive->window == 0)
      problems.push_back(fmt::format(
          "{}: an adaptive range needs 1 <= min <= max (here {} to {}) and a window of at least "
          "one call",
          quoted(node), adaptive->min, adaptive->max));
    if (!node.traits().adaptable || node.options().ordered)
      problems.push_back(fmt::format(
          "{} ({}{}) cannot adapt its concurrency: adaptive applies to one-input nodes "
          "(transform, filter, one-to-many, sink, repeat, branch_on), not to ordered sinks",
          quoted(node), node.traits().label, node.options().ordered ? ", ordered" : ""));
  }
}

void check_names(const FlowData& flow, std::vector<std::string>& problems) {
  std::map<std::string, int> seen;
  for (const auto& n : flow.nodes) ++seen[n.impl->name()];
  for (const auto& [name, count] : seen)
    if (count > 1)
      problems.push_back(fmt::format("duplicate node name '{}' (declared {} times)", name, count));
}

void check_ports(const FlowData& flow, std::vector<std::string>& problems) {
  for (std::size_t id = 0; id < flow.nodes.size(); ++id) {
    const NodeDecl& decl = flow.nodes[id];
    const NodeImpl& node = *decl.impl;
    const auto& inputs = node.input_types();
    for (std::size_t port = 0; port < inputs.size(); ++port) {
      const auto edges = std::count_if(flow.edges.begin(), flow.edges.end(), [&](const auto& e) {
        return e.to == id && e.to_port == port;
      });
      if (node.shape() == Shape::join && edges != 1) {
        problems.push_back(fmt::format(
            "input {} ({}) of fan-in {} has {} edges: each input of a fan-in takes exactly one "
            "branch",
            port + 1, type_of(inputs[port]), quoted(node), edges));
      } else if (edges == 0) {
        problems.push_back(
            fmt::format("input of {} ({}) is not connected", quoted(node), type_of(inputs[port])));
      }
    }
    node.check(problems);
    for (std::size_t port = 0; port < node.output_ports() && !decl.discarded; ++port) {
      const bool used = std::any_of(flow.edges.begin(), flow.edges.end(), [&](const auto& e) {
        return e.from == id && e.from_port == port;
      });
      if (!used)
        problems.push_back(fmt::format(
            "output of {} ({}) goes nowhere: connect it, or call .discard() on the node",
            output_name(node, port), type_of(node.port_type(port))));
    }
    if (node.options().ordered && node.shape() != Shape::ordered)
      problems.push_back(fmt::format("{} is ordered but is not a sink: only sinks deliver in order",
                                     quoted(node)));
    check_cluster_options(node, problems);
    check_operation_options(node, problems);
  }
}

// One cycle through `start` inside its strongly connected component, as "a -> b -> a".
std::string describe_cycle(const FlowData& flow, const Graph& g, const std::vector<int>& component,
                           std::size_t start) {
  std::map<std::size_t, std::size_t> parent;
  std::queue<std::size_t> todo;
  todo.push(start);
  std::optional<std::size_t> last;
  while (!todo.empty() && !last) {
    const auto u = todo.front();
    todo.pop();
    for (auto [it, end] = boost::adjacent_vertices(u, g); it != end && !last; ++it) {
      const auto v = *it;
      if (component[v] != component[start] || parent.count(v)) continue;
      parent[v] = u;
      if (v == start) last = u;
      todo.push(v);
    }
  }
  std::vector<std::size_t> path{start};
  for (auto v = *last; v != start; v = parent[v]) path.push_back(v);
  path.push_back(start);
  std::reverse(path.begin() + 1, path.end() - 1);
  std::string text;
  for (auto v : path) text += (text.empty() ? "" : " -> ") + flow.nodes[v].impl->name();
  return text;
}

bool check_cycles(const FlowData& flow, const Graph& g, std::vector<std::string>& problems) {
  std::vector<int> component(flow.nodes.size());
  const int count = boost::strong_components(g, component.data());
  std::vector<int> size(count, 0);
  for (int c : component) ++size[c];
  std::set<int> reported;
  for (std::size_t v = 0; v < flow.nodes.size(); ++v) {
    const bool self_loop = boost::edge(v, v, g).second;
    if ((size[component[v]] > 1 || self_loop) && reported.insert(component[v]).second)
      problems.push_back("cycle: " + describe_cycle(flow, g, component, v) +
                         " (a flow must be acyclic; to apply a node several times use repeat)");
  }
  return reported.empty();
}

void check_reachable(const FlowData& flow, const Graph& g, std::vector<std::string>& problems) {
  std::vector<bool> reached(flow.nodes.size(), false);
  std::queue<std::size_t> todo;
  for (std::size_t v = 0; v < flow.nodes.size(); ++v)
    if (flow.nodes[v].impl->shape() == Shape::source) {
      reached[v] = true;
      todo.push(v);
    }
  if (todo.empty()) problems.push_back("the flow has no source");
  while (!todo.empty()) {
    const auto u = todo.front();
    todo.pop();
    for (auto [it, end] = boost::adjacent_vertices(u, g); it != end; ++it)
      if (!reached[*it]) {
        reached[*it] = true;
        todo.push(*it);
      }
  }
  for (std::size_t v = 0; v < flow.nodes.size(); ++v)
    if (!reached[v] && boost::in_degree(v, g) > 0)
      problems.push_back(
          fmt::format("{} is not reached by any source", quoted(*flow.nodes[v].impl)));
}

// Where a node's items come from, worked out in topological order. A fan-in can only pair
// items by slot when each branch delivers one batch per sequence number, from one source,
// with at most one item per slot; an ordered sink can only restore one source's order.
struct Lineage {
  std::set<std::size_t> sources;
  std::size_t parts = 1;       // batches per source sequence number
  bool unique_slots = true;    // at most one item per slot in a batch (false after one-to-many)
  std::string why_not_unique;  // the node that broke it, as "the <kind> node '<name>'"
  std::string regrouped_by;    // a batch node upstream: its groups have no source order
};

std::vector<Lineage> trace_lineage(const FlowData& flow, const std::vector<std::size_t>& order,
                                   std::vector<std::string>& problems) {
  std::vector<Lineage> lineage(flow.nodes.size());
  for (auto v : order) {
    const NodeImpl& node = *flow.nodes[v].impl;
    Lineage& mine = lineage[v];
    if (node.shape() == Shape::source) {
      mine.sources = {v};
      continue;
    }
    mine.parts = 0;
    std::vector<const Lineage*> inputs(node.input_types().size(), nullptr);
    for (const auto& e : flow.edges) {
      if (e.to != v) continue;
      const Lineage& in = lineage[e.from];
      inputs[e.to_port] = &in;
      mine.sources.insert(in.sources.begin(), in.sources.end());
      mine.parts += in.parts;
      if (!in.unique_slots && mine.unique_slots) {
        mine.unique_slots = false;
        mine.why_not_unique = in.why_not_unique;
      }
      if (mine.regrouped_by.empty()) mine.regrouped_by = in.regrouped_by;
    }
    if (node.traits().slots != Slots::kept) {
      mine.unique_slots = false;
      mine.why_not_unique = fmt::format("the {} node '{}'", node.traits().noun, node.name());
    }
    if (node.traits().slots == Slots::regrouped) mine.regrouped_by = node.name();
    if (node.shape() == Shape::join) {
      for (std::size_t port = 0; port < inputs.size(); ++port) {
        const Lineage* in = inputs[port];
        if (!in) continue;  // reported by check_ports
        if (in->parts != 1)
          problems.push_back(fmt::format(
              "fan-in {}: input {} merges several branches before the join, so its items cannot "
              "be paired with the other inputs' (join the branches directly)",
              quoted(node), port + 1));
        else if (!in->unique_slots)
          problems.push_back(
              fmt::format("fan-in {}: input {} comes after {}, so its items cannot be "
                          "paired with the upstream item they came from",
                          quoted(node), port + 1, in->why_not_unique));
      }
      if (mine.sources.size() > 1)
        problems.push_back(fmt::format(
            "fan-in {} joins items of different sources: a fan-in pairs the results of one "
            "upstream item",
            quoted(node)));
      mine.parts = 1;
      mine.unique_slots = true;
    }
    if (node.options().ordered && !mine.regrouped_by.empty())
      problems.push_back(fmt::format(
          "ordered sink {} comes after the batch node '{}', whose groups mix items of different "
          "source batches: there is no source order to keep",
          quoted(node), mine.regrouped_by));
    if (node.options().ordered && mine.sources.size() > 1)
      problems.push_back(fmt::format(
          "ordered sink {} receives items of {} sources: there is no one source order to keep",
          quoted(node), mine.sources.size()));
  }
  return lineage;
}

}  // namespace

Plan make_plan(const FlowData& flow) {
  std::vector<std::string> problems;
  check_names(flow, problems);
  check_ports(flow, problems);
  check_error_policies(flow, problems);  // error_policy.cpp
  check_adaptive(flow, problems);
  const Graph g = model(flow);
  const bool acyclic = check_cycles(flow, g, problems);
  check_reachable(flow, g, problems);

  Plan plan;
  if (acyclic) {
    boost::topological_sort(g, std::back_inserter(plan.order));
    std::reverse(plan.order.begin(), plan.order.end());
    const auto lineage = trace_lineage(flow, plan.order, problems);
    for (const auto& l : lineage) plan.parts_per_seq.push_back(l.parts);
  }
  if (!problems.empty()) throw FlowError(flow.name, std::move(problems));
  return plan;
}

}  // namespace aetherflow::detail
