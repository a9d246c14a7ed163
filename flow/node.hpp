#pragma once
// Handles to a flow's nodes, and the `>>` that connects them.
//
//   source >> parse >> sink;                          a chain
//   parse >> fan_out(by_url, by_status) >> report;    fan-out, then fan-in of the same items
//   route.when("GET") >> get;  route.otherwise() >> other;
//   lines >> parse(flow.scope("parse")) >> sink;      a sub-flow's group(first, last)
//
// Edges are typed: `a >> b` compiles only when a's output converts to b's input.

#include <cstddef>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>

#include <flow/dead_letter.hpp>
#include <flow/detail/flow_data.hpp>
#include <flow/detail/signature.hpp>
#include <flow/detail/step_node.hpp>
#include <flow/detail/type_name.hpp>

namespace aetherflow {

template <class T>
struct OutPort {
  detail::FlowData* flow;
  std::size_t node, port;
};
template <class T>
struct InPort {
  detail::FlowData* flow;
  std::size_t node, port;
};

namespace detail {

// Instantiated for every edge. When the types do not convert, the compiler's message shows
// this template with both types as its arguments. Items of the same type are moved along the
// edge, not converted, so a move-only type (std::unique_ptr) crosses it.
template <class From, class To>
struct EdgeTypes {
  static_assert(std::is_same_v<From, To> || std::is_convertible_v<const From&, To>,
                "aetherflow: `a >> b` joins nodes whose item types do not match: the output type "
                "of `a` (first argument of EdgeTypes<From, To>) does not convert to the input "
                "type of `b` (second argument)");
  static constexpr bool same = std::is_same_v<From, To>;
};

void add_edge(FlowData* from_flow, std::size_t from, std::size_t from_port, FlowData* to_flow,
              std::size_t to, std::size_t to_port, std::shared_ptr<const NodeImpl> converter);

template <class From, class To>
void connect(const OutPort<From>& out, const InPort<To>& in) {
  std::shared_ptr<const NodeImpl> converter;
  if constexpr (!EdgeTypes<From, To>::same) {
    auto convert = [](const From& x) -> To { return x; };
    using Sig = StepSignature<decltype(convert)>;
    converter = std::make_shared<StepNode<Sig, decltype(convert)>>(
        type_name(typeid(From)) + " -> " + type_name(typeid(To)), NodeOptions{}, convert);
  }
  add_edge(out.flow, out.node, out.port, in.flow, in.node, in.port, std::move(converter));
}

template <class T>
concept HasOutputs = requires(const T& t) {
  t.outputs();
};
template <class T>
concept HasInputs = requires(const T& t) {
  t.inputs();
};

// Shared by every handle of a single node.
class NodeHandle {
 public:
  NodeHandle(FlowData* flow, std::size_t id) : flow_(flow), id_(id) {}
  const std::string& name() const { return flow_->nodes[id_].impl->name(); }
  std::size_t id() const noexcept { return id_; }
  FlowData* flow() const noexcept { return flow_; }

 protected:
  FlowData* flow_;
  std::size_t id_;
};

}  // namespace detail

// One output port of a node beyond its output: a route of a branch_on node, or the dead
// letters of a node.
template <class T>
class Port {
 public:
  Port(detail::FlowData* flow, std::size_t node, std::size_t port)
      : flow_(flow), node_(node), port_(port) {}
  auto outputs() const { return std::tuple{OutPort<T>{flow_, node_, port_}}; }

 private:
  detail::FlowData* flow_;
  std::size_t node_, port_;
};
template <class T>
using Route = Port<T>;

// A node taking In and producing Out (void: a source takes nothing, a sink produces nothing).
template <class In, class Out>
class Node : public detail::NodeHandle {
 public:
  using NodeHandle::NodeHandle;
  using input_type = In;
  using output_type = Out;

  auto inputs() const requires(!std::is_void_v<In>) {
    return std::tuple{InPort<In>{flow_, id_, 0}};
  }
  auto outputs() const requires(!std::is_void_v<Out>) {
    return std::tuple{OutPort<Out>{flow_, id_, 0}};
  }
  // Declares the output intentionally unused, so validation does not report it.
  Node& discard() requires(!std::is_void_v<Out>) {
    flow_->nodes[id_].discarded = true;
    return *this;
  }
  // The items the node failed on, for a node declared with on_error = OnError::dead_letter:
  //   parse.dead_letters() >> failed_lines;
  auto dead_letters() const requires(!std::is_void_v<In>) {
    return Port<DeadLetter<In>>{flow_, id_, std::is_void_v<Out> ? 0u : 1u};
  }
};

// A fan-in producing Out from one value per branch (Ins: the branches' item types).
template <class Out, class... Ins>
class FanIn : public detail::NodeHandle {
 public:
  using NodeHandle::NodeHandle;

  auto inputs() const {
    return [this]<std::size_t... I>(std::index_sequence<I...>) {
      return std::tuple{InPort<Ins>{flow_, id_, I}...};
    }
    (std::index_sequence_for<Ins...>{});
  }
  auto outputs() const requires(!std::is_void_v<Out>) {
    return std::tuple{OutPort<Out>{flow_, id_, 0}};
  }
  FanIn& discard() requires(!std::is_void_v<Out>) {
    flow_->nodes[id_].discarded = true;
    return *this;
  }
};

// A set of nodes used together: `a >> fan_out(b, c)` sends every item of a to b and c;
// `fan_out(b, c) >> join` feeds a fan-in, b to its first parameter and c to its second.
template <class... Endpoints>
class Branches {
 public:
  explicit Branches(Endpoints... e) : members_(e...) {}
  auto inputs() const requires(detail::HasInputs<Endpoints>&&...) {
    return std::apply([](const auto&... m) { return std::tuple_cat(m.inputs()...); }, members_);
  }
  auto outputs() const requires(detail::HasOutputs<Endpoints>&&...) {
    return std::apply([](const auto&... m) { return std::tuple_cat(m.outputs()...); }, members_);
  }

 private:
  std::tuple<Endpoints...> members_;
};

template <class... Endpoints>
Branches<Endpoints...> fan_out(Endpoints... endpoints) {
  static_assert(sizeof...(Endpoints) >= 2, "aetherflow: fan_out takes two or more nodes");
  return Branches<Endpoints...>(endpoints...);
}

namespace detail {
// Anything that can stand on either side of >>.
template <class T>
concept Endpoint = HasInputs<T> || HasOutputs<T>;

template <class T>
struct is_branch_on : std::false_type {};  // true for Branch (flow/flow.hpp)
}  // namespace detail

// A group of connected nodes used as one: its inputs are those of `first`, its outputs those
// of `last`. A reusable sub-flow returns one (see group() and FlowBuilder::scope).
template <class First, class Last>
class Group {
 public:
  Group(First first, Last last) : first_(first), last_(last) {}
  auto inputs() const requires detail::HasInputs<First> { return first_.inputs(); }
  auto outputs() const requires detail::HasOutputs<Last> { return last_.outputs(); }

 private:
  First first_;
  Last last_;
};

// The group from `first` to `last`, which the sub-flow has connected in between:
//   auto parse(aetherflow::Scope s) {
//     auto split = s.node("split", ...);
//     auto validate = s.node("validate", ...);
//     split >> validate;
//     return aetherflow::group(split, validate);
//   }
//   lines >> parse(flow.scope("parse")) >> sink;       nodes "parse/split", "parse/validate"
// Either end may be a node, a fan-in, fan_out(...) of several, or a route. A group starting
// with a source has no input, one ending in a sink no output: it stands at an end of the flow.
template <detail::Endpoint First, detail::Endpoint Last>
Group<First, Last> group(First first, Last last) {
  static_assert(!detail::is_branch_on<Last>::value,
                "aetherflow: a group cannot end with a branch_on node, whose routes are not one "
                "output: end it with what the routes feed, group(first, fan_out(get, post)), or "
                "with one route, group(first, method.when(key))");
  static_assert(detail::HasInputs<First> || detail::HasOutputs<Last>,
                "aetherflow: this group has no input (its first end, a source, takes none) and "
                "no output (its last end is a sink), so it has nothing to connect: declare the "
                "sub-flow without returning a group");
  return Group<First, Last>(first, last);
}

namespace detail {
template <class T>
struct is_fan_in : std::false_type {};
template <class Out, class... Ins>
struct is_fan_in<FanIn<Out, Ins...>> : std::true_type {};
template <class T>
struct is_branches : std::false_type {};
template <class... E>
struct is_branches<Branches<E...>> : std::true_type {};
// A group is fed as its first endpoint is, and feeds as its last does.
template <class First, class Last>
struct is_fan_in<Group<First, Last>> : is_fan_in<First> {};
template <class First, class Last>
struct is_branches<Group<First, Last>> : is_branches<Last> {};
}  // namespace detail

// Connects a's outputs to b's inputs and returns b, so that chains read left to right.
// One output feeds every input (fan-out); several outputs into one input merge; n outputs
// into a fan-in's n inputs go pairwise.
template <detail::Endpoint A, detail::Endpoint B>
B operator>>(const A& a, const B& b) {
  static_assert(detail::HasOutputs<A>,
                "aetherflow: the left side of >> has no output: a sink, or a branch_on node "
                "(connect its routes: route.when(key) >> node, route.otherwise() >> node)");
  static_assert(detail::HasInputs<B>,
                "aetherflow: the right side of >> is a source: it takes no input");
  if constexpr (detail::HasOutputs<A> && detail::HasInputs<B>) {
    const auto outs = a.outputs();
    const auto ins = b.inputs();
    constexpr std::size_t n_out = std::tuple_size_v<decltype(outs)>;
    constexpr std::size_t n_in = std::tuple_size_v<decltype(ins)>;
    static_assert(!detail::is_fan_in<B>::value || detail::is_branches<A>::value,
                  "aetherflow: a fan-in is fed by its branches together: fan_out(a, b) >> join");
    static_assert(n_out == 1 || n_in == 1 || n_out == n_in,
                  "aetherflow: `a >> b` needs one output, one input, or as many outputs as inputs");
    [&]<std::size_t... O>(std::index_sequence<O...>) {
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        if constexpr (n_out == 1)
          (detail::connect(std::get<0>(outs), std::get<I>(ins)), ...);
        else if constexpr (n_in == 1)
          (detail::connect(std::get<O>(outs), std::get<0>(ins)), ...);
        else
          (detail::connect(std::get<I>(outs), std::get<I>(ins)), ...);
      }
      (std::make_index_sequence<n_in>{});
    }
    (std::make_index_sequence<n_out>{});
  }
  return b;
}

}  // namespace aetherflow
