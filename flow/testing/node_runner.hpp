#pragma once
// Runs one node on its own, the way MediaPipe's CalculatorRunner tests a calculator: give it
// the callable and the inputs, get back what it emitted, what it failed on and its report.
//
//   auto r = aetherflow::testing::run_node("parse", parse, std::vector<std::string>{"1", "x"},
//                                          {.node = {.on_error =
//                                          aetherflow::OnError::dead_letter}});
//   r.outputs         // std::vector<int>{1}, in input order
//   r.dead_letters    // one DeadLetter<std::string>, item "x"
//   r.report.failed   // 1: the node's NodeReport
//
// It is made of a plain Flow: a source over the inputs, the node declared by Flow::node (so
// the callable's signature means what it means there: filter, one-to-many, sink, resources,
// generic lambdas named with run_node<In>), an ordered collecting sink, and, when on_error is
// dead_letter, a sink collecting the dead letters. It does not depend on any test framework.
// See docs/testing.md.

#include <initializer_list>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <contexts/context.hpp>
#include <flow/dead_letter.hpp>
#include <flow/flow.hpp>
#include <flow/options.hpp>
#include <flow/report.hpp>
#include <nodes/sinks.hpp>

namespace aetherflow::testing {

struct RunNodeOptions {
  NodeOptions node = {};  // the node's: concurrency, on_error, retry, adaptive...
  RunOptions run = {};    // the run's: threads, batch_size, stop, deadline, profile...
};

// What one run of the node did. In: the node's input type; Out: its output type (void for a
// sink, whose outputs stay empty).
template <class In, class Out>
struct NodeRun {
  using output_type = std::conditional_t<std::is_void_v<Out>, std::monostate, Out>;

  // What the node emitted, in the order of the inputs (a one-to-many node's items in the
  // order it emitted them); a filter's dropped and a failed item's absent.
  std::vector<output_type> outputs;
  // The items it failed on, with OnError::dead_letter; in the order they failed.
  std::vector<DeadLetter<In>> dead_letters;
  // The node's own counts: in, out, filtered, failed, skipped, dead_lettered, retries...
  NodeReport report;
  // The whole run's report: the runner's source and sinks are nodes of it too.
  RunReport run;
};

namespace node_runner_detail {

// Flow::node, with the input type named unless In is void.
template <class In, class F>
auto declare(Flow& flow, std::string name, F fn, const NodeOptions& options) {
  if constexpr (std::is_void_v<In>)
    return flow.node(std::move(name), std::move(fn), options);
  else
    return flow.node<In>(std::move(name), std::move(fn), options);
}

template <class In, class F>
using handle_t =
    decltype(declare<In>(std::declval<Flow&>(), std::string(), std::declval<F>(), NodeOptions{}));

template <class In, class F>
struct input_of {
  using type = typename handle_t<In, F>::input_type;
};
template <class In, class F>
requires std::is_void_v<handle_t<In, F>>  // Flow::node refused F: its message says why
struct input_of<In, F> {
  using type = int;
};

}  // namespace node_runner_detail

// Runs `fn` as the node `name` on every item of `inputs`, with resources from `context` (which
// must outlive the call). A failed item under OnError::fail (the default) throws the run's
// NodeError, which carries the RunReport (NodeError::report()).
template <class In = void, class F, std::ranges::input_range R>
auto run_node(std::string name, F fn, R&& inputs, Context& context,
              const RunNodeOptions& options = {}) {
  using Handle = node_runner_detail::handle_t<In, F>;
  if constexpr (!std::is_void_v<Handle>) {
    using Item = typename Handle::input_type;
    using Out = typename Handle::output_type;
    NodeRun<Item, Out> result;
    Flow flow(name);
    auto node = node_runner_detail::declare<In>(flow, name, std::move(fn), options.node);
    flow.source("inputs of " + name, std::forward<R>(inputs)) >> node;
    if constexpr (!std::is_void_v<Out>)
      node >>
          flow.node("outputs of " + name, aetherflow::collect(result.outputs), {.ordered = true});
    if (options.node.on_error == OnError::dead_letter)
      node.dead_letters() >>
          flow.node("dead letters of " + name, aetherflow::collect(result.dead_letters));
    result.run = flow.run(context, options.run);
    result.report = result.run.node(name);
    return result;
  }
}

// The same, for a node that asks for no resources.
template <class In = void, class F, std::ranges::input_range R>
auto run_node(std::string name, F fn, R&& inputs, const RunNodeOptions& options = {}) {
  Context none;
  return run_node<In>(std::move(name), std::move(fn), std::forward<R>(inputs), none, options);
}

// With the inputs in braces: run_node("half", half, {1, 2, 3}).
template <class In = void, class F>
auto run_node(std::string name, F fn,
              std::initializer_list<typename node_runner_detail::input_of<In, F>::type> inputs,
              Context& context, const RunNodeOptions& options = {}) {
  return run_node<In>(std::move(name), std::move(fn), std::vector(inputs), context, options);
}
template <class In = void, class F>
auto run_node(std::string name, F fn,
              std::initializer_list<typename node_runner_detail::input_of<In, F>::type> inputs,
              const RunNodeOptions& options = {}) {
  return run_node<In>(std::move(name), std::move(fn), std::vector(inputs), options);
}

}  // namespace aetherflow::testing
