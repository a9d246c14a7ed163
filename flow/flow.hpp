#pragma once
// A Flow: named nodes made of plain callables, connected with >>, validated as a whole, run on
// oneTBB in batches.
//
//   aetherflow::Flow flow("squares");
//   auto numbers = flow.source("numbers", std::views::iota(1, 1001));
//   auto square  = flow.node("square", [](int x) { return x * x; });
//   auto total   = flow.node("sum", [&sum](int x) { sum += x; });   // void: a sink
//   numbers >> square >> total;
//   aetherflow::RunReport report = flow.run();
//
// A reusable sub-flow declares its nodes through flow.scope("parse"), which names them
// "parse/<name>", and returns their group(first, last) (flow/node.hpp).

#include <concepts>
#include <cstddef>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <contexts/context.hpp>
#include <flow/detail/branch_node.hpp>
#include <flow/detail/declaration_checks.hpp>
#include <flow/detail/fan_in_node.hpp>
#include <flow/detail/flow_data.hpp>
#include <flow/detail/signature.hpp>
#include <flow/detail/source_node.hpp>
#include <flow/detail/step_node.hpp>
#include <flow/node.hpp>
#include <flow/node_kind.hpp>
#include <flow/options.hpp>
#include <flow/profile.hpp>
#include <flow/report.hpp>

namespace aetherflow {

// A branch_on node: route each T by its key.
template <class T, class Key, class KeyFn>
class Branch : public detail::NodeHandle {
 public:
  using NodeHandle::NodeHandle;
  auto inputs() const { return std::tuple{InPort<T>{flow_, id_, 0}}; }

  // The route of items whose key equals `key`.
  Route<T> when(const Key& key) { return {flow_, id_, impl().route(key)}; }
  // The route of items whose key has no route of its own. Without it, such an item is an
  // error that names the key.
  Route<T> otherwise() { return {flow_, id_, impl().otherwise()}; }

 private:
  detail::BranchNode<T, Key, KeyFn>& impl() const {
    return static_cast<detail::BranchNode<T, Key, KeyFn>&>(*flow_->nodes[id_].impl);
  }
};

namespace detail {
template <class T, class Key, class KeyFn>
struct is_branch_on<Branch<T, Key, KeyFn>> : std::true_type {};

template <class G>
concept Generator = std::invocable<G&> && is_optional_v<std::invoke_result_t<G&>>;

template <class F, std::size_t... I>
auto fan_in_handle(std::index_sequence<I...>)
    -> FanIn<typename FanInSignature<F>::output, typename FanInSignature<F>::template value<I>...>;
}  // namespace detail

class Scope;

// What adds nodes to a flow: the Flow itself, or a Scope of it (see flow.scope), which puts
// its prefix before the names of the nodes it adds. Name a parameter `FlowBuilder&` to take
// either.
class FlowBuilder {
 public:
  // A source that calls `generator` until it returns an empty optional. Each run starts from
  // a fresh copy of the generator as declared. Of the options, sources take on_ranks (a
  // cluster run's: docs/distributed.md).
  template <detail::Generator G>
  auto source(std::string name, G generator, NodeOptions options = {}) {
    using T = typename std::invoke_result_t<G&>::value_type;
    static_assert(std::is_copy_constructible_v<G>,
                  "aetherflow: a generator source must be copyable: each run starts from a copy");
    return add<Node<void, T>>(std::make_shared<detail::GeneratorSource<G>>(
        prefixed(std::move(name)), options, std::move(generator)));
  }

  // A source object with a reader that fills batches (see flow/source.hpp), such as
  // nodes/read_lines.hpp's read_lines("access.log").
  template <BatchSource S>
  auto source(std::string name, S source, NodeOptions options = {}) {
    return add<Node<void, typename S::item_type>>(std::make_shared<detail::ReaderSource<S>>(
        prefixed(std::move(name)), options, std::move(source)));
  }

  // A source that emits the elements of `range`. An lvalue range is referenced, not copied:
  // it must outlive the runs. Each run iterates it from the beginning.
  template <std::ranges::input_range R>
  requires(!detail::Generator<R> &&
           !BatchSource<std::remove_cvref_t<R>>) auto source(std::string name, R&& range,
                                                             NodeOptions options = {}) {
    auto view = std::views::all(std::forward<R>(range));
    using T = std::ranges::range_value_t<decltype(view)>;
    return add<Node<void, T>>(std::make_shared<detail::RangeSource<decltype(view)>>(
        prefixed(std::move(name)), options, std::move(view)));
  }

  // A node from a plain callable. Its signature decides its role: see detail/signature.hpp.
  // For a generic lambda, name the input type: flow.node<int>("twice", [](auto x) {...}).
  template <class In = detail::Deduce, class F>
  requires(!NodeSpec<F>) auto node(std::string name, F fn, NodeOptions options = {}) {
    if constexpr (detail::readable_input<F, In>()) {
      using Sig = detail::StepSignature<F, In>;
      if constexpr (detail::resources_by_reference<typename Sig::resources>())
        return add<Node<typename Sig::input, typename Sig::output>>(
            std::make_shared<detail::StepNode<Sig, F>>(prefixed(std::move(name)), options,
                                                       std::move(fn)));
    }
  }

  // A node of a kind of its own, made by `spec` (flow/node_kind.hpp), such as
  // aetherflow::batch<T>(size) of nodes/batch.hpp.
  template <NodeSpec S>
  auto node(std::string name, S spec, NodeOptions options = {}) {
    using Handle = Node<typename S::input_type, typename S::output_type>;
    return add<Handle>(spec.make(prefixed(std::move(name)), options));
  }

  // A one-to-one node whose body runs `times` times per item, each time on its last result.
  template <class In = detail::Deduce, class F>
  auto repeat(std::string name, std::size_t times, F fn, RepeatOptions options = {}) {
    if constexpr (detail::readable_input<F, In>()) {
      using Sig = detail::StepSignature<F, In>;
      using T = typename Sig::input;
      return add<Node<T, T>>(std::make_shared<detail::RepeatNode<Sig, F>>(
          prefixed(std::move(name)), options.node,
          detail::RepeatCall<Sig, F>(std::move(fn), times, options.stop_on_error)));
    }
  }

  // A node taking one value per branch of the same upstream item: see detail/fan_in_node.hpp.
  // Feed it with fan_out(a, b, ...) >> join.
  template <class F>
  auto fan_in(std::string name, F fn, NodeOptions options = {}) {
    if constexpr (detail::readable_fan_in<F>()) {
      using Handle = decltype(detail::fan_in_handle<F>(
          std::make_index_sequence<detail::FanInSignature<F>::arity>{}));
      return add<Handle>(std::make_shared<detail::FanInNode<F>>(prefixed(std::move(name)), options,
                                                                std::move(fn)));
    }
  }

  // A node routing each item to the route of key(item): see Branch.
  template <class T = detail::Deduce, class KeyFn>
  auto branch_on(std::string name, KeyFn key, NodeOptions options = {}) {
    if constexpr (detail::readable_input<KeyFn, T>()) {
      using Item = typename detail::StepSignature<KeyFn, T>::input;
      using Key = std::remove_cvref_t<std::invoke_result_t<KeyFn&, const Item&>>;
      return add<Branch<Item, Key, KeyFn>>(std::make_shared<detail::BranchNode<Item, Key, KeyFn>>(
          prefixed(std::move(name)), options, std::move(key)));
    }
  }

  // A builder of the same flow whose nodes are named "<prefix()><name>/<node's name>": where a
  // reusable sub-flow declares its nodes (see group in flow/node.hpp). Scopes nest:
  // flow.scope("a").scope("b") names its nodes "a/b/...". FlowError if `name` is empty or
  // holds a '/' (nest scopes instead).
  Scope scope(const std::string& name);
  // What this builder puts before the names of its nodes: "" for a Flow, "parse/" for
  // flow.scope("parse").
  const std::string& prefix() const noexcept { return prefix_; }

 protected:
  FlowBuilder(detail::FlowData* data, std::string prefix) noexcept
      : flow_(data), prefix_(std::move(prefix)) {}
  FlowBuilder(const FlowBuilder&) = default;
  FlowBuilder(FlowBuilder&&) noexcept = default;
  FlowBuilder& operator=(const FlowBuilder&) = default;
  FlowBuilder& operator=(FlowBuilder&&) noexcept = default;
  ~FlowBuilder() = default;

 private:
  template <class Handle>
  Handle add(std::shared_ptr<detail::NodeImpl> node) {
    return Handle(flow_, add_node(std::move(node)));
  }
  std::string prefixed(std::string name) const { return prefix_ + std::move(name); }
  std::size_t add_node(std::shared_ptr<detail::NodeImpl> node);

  detail::FlowData* flow_;
  std::string prefix_;
};

// A FlowBuilder adding nodes to a flow under a prefix: made by flow.scope(name). It refers to
// the flow, which must outlive it, like the handles of its nodes.
class Scope : public FlowBuilder {
 private:
  friend class FlowBuilder;
  Scope(detail::FlowData* flow, std::string prefix) noexcept
      : FlowBuilder(flow, std::move(prefix)) {}
};

class Flow : public FlowBuilder {
 public:
  explicit Flow(std::string name = "flow");
  Flow(Flow&&) noexcept;
  Flow& operator=(Flow&&) noexcept;
  ~Flow();

  const std::string& name() const noexcept;

  // Checks the whole flow, and that `context` provides every resource its nodes ask for;
  // throws one FlowError listing every problem.
  void validate(const Context& context = Context()) const;
  // The flow as declared, in Graphviz DOT.
  std::string to_dot() const;
  // The same, each node coloured by its share of the work in `profile` and labelled with its
  // busy share, cost per item and p99 call latency; the bottleneck outlined in red.
  std::string to_dot(const Profile& profile) const;
  // Runs the flow to the end of its sources and returns what happened. Blocks. Nodes get
  // their resources from `context`, which must outlive the run. The first exception of any
  // node stops the run and is rethrown as a NodeError naming the node.
  RunReport run(Context& context, const RunOptions& options = {});
  // The same, for a flow whose nodes ask for no resources.
  RunReport run(const RunOptions& options = {});

 private:
  explicit Flow(std::unique_ptr<detail::FlowData> data);

  std::unique_ptr<detail::FlowData> data_;
};

// Writes every output of `profile`, a profile of a run of `flow`, to `directory` (created if
// need be): <flow>.profile.json, <flow>.trace.json, <flow>.prom and <flow>.dot. This is what
// AETHERFLOW_PROFILE=<directory> does after each run. Error naming a file it cannot write.
void write_profile(const Flow& flow, const Profile& profile, const std::string& directory);

}  // namespace aetherflow
