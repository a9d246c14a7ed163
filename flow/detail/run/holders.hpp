#pragma once
// Nodes that hold items between calls (a batch node: NodeImpl::holds_items) emit outside their
// calls too: when a timer they asked for is due (RunControl::flush_later), and at the end of
// the stream. Each flush is a call of the node, counted and observed like any other.

#include <chrono>
#include <mutex>
#include <vector>

#include <flow/detail/run/call.hpp>
#include <flow/detail/run/graph_nodes.hpp>

namespace aetherflow::detail {

class Holders {
 public:
  // `ahead`: how many batches a holder emitting its state at the end of the stream may send
  // before the graph has taken them (NodeImpl::flush).
  Holders(RunState& state, Calls& calls, std::size_t ahead)
      : state_(state), calls_(calls), ahead_(ahead) {}

  // Node `rt` holds items and emits on `routes`: gives it the serial oneTBB node its timed
  // flushes run in, so that they run on a worker of the run's arena, as a task the graph
  // waits for.
  void add(GraphNodes& graph, const NodeRuntime& rt, std::vector<tf::broadcast_node<Msg>*> routes);
  // RunControl: when the delay is over, the timer's thread puts a message to the holder's
  // timed node, whose task runs the flush; unless the run reached its end of stream by then.
  void flush_later(const NodeImpl& node, std::chrono::nanoseconds delay);
  // The end of the stream: each holder emits what it holds, upstream first, and what it
  // emitted flows on before the next one's turn. Timed flushes end first, so none can race
  // with these. A holder emitting batch by batch is called `ahead` times at once (on the
  // run's threads), then the graph takes what it emitted, and so on until it has no more.
  void flush_held(tf::graph& graph);
  // After the run: what they still hold, when the run stopped or failed, counted as cancelled.
  void drop_held() noexcept;

 private:
  struct Holder {
    const NodeRuntime* rt;
    std::vector<tf::broadcast_node<Msg>*> routes;
    tf::function_node<int, tf::continue_msg>* timed;
  };
  bool flush(const Holder& h, bool end_of_stream);  // true: more to emit

  RunState& state_;
  Calls& calls_;
  std::size_t ahead_;
  std::vector<Holder> holders_;  // in flow order
  std::mutex mutex_;             // a timed flush against the end of stream
  bool timed_flushes_ = true;    // until the end of stream
};

}  // namespace aetherflow::detail
