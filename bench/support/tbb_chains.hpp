#pragma once
// The chain of support/chains.hpp hand-written in oneTBB, the baselines of the chain
// benchmarks: one item per message (what the flow graph is usually written as), and hand-made
// batches (what experts write when the per-message cost shows).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>

#include "chains.hpp"

namespace aetherflow::bench {

// The body of a oneTBB input_node emitting 0, 1, ..., items - 1, one per message.
inline auto tbb_count_to(std::int64_t items) {
  return [next = std::int64_t{0}, items](oneapi::tbb::flow_control& fc) mutable {
    if (next == items) {
      fc.stop();
      return std::int64_t{0};
    }
    return next++;
  };
}

// input_node -> three function_nodes (unlimited) -> serial sum, one int64 per message.
template <int Rounds>
std::int64_t tbb_chain_per_item(int threads, std::int64_t items) {
  namespace tf = oneapi::tbb::flow;
  using S = Steps<Rounds>;
  std::int64_t sum = 0;
  oneapi::tbb::task_arena arena(threads);
  arena.execute([&] {
    tf::graph g;
    tf::input_node<std::int64_t> source(g, tbb_count_to(items));
    tf::function_node<std::int64_t, std::int64_t> a(g, tf::unlimited, S::add_one);
    tf::function_node<std::int64_t, std::int64_t> b(g, tf::unlimited, S::twice);
    tf::function_node<std::int64_t, std::int64_t> c(g, tf::unlimited, S::minus_three);
    tf::function_node<std::int64_t> total(g, tf::serial, [&sum](std::int64_t x) {
      sum += x;
      return tf::continue_msg();
    });
    tf::make_edge(source, a);
    tf::make_edge(a, b);
    tf::make_edge(b, c);
    tf::make_edge(c, total);
    source.activate();
    g.wait_for_all();
  });
  return sum;
}

// The same with hand-made batches: each message a shared vector of `batch` items, rewritten in
// place by each stage, the source limited to 4 batches per thread in flight (as AetherFlow).
template <int Rounds>
std::int64_t tbb_chain_batched(int threads, std::int64_t items, std::size_t batch) {
  namespace tf = oneapi::tbb::flow;
  using S = Steps<Rounds>;
  using Batch = std::shared_ptr<std::vector<std::int64_t>>;
  std::int64_t sum = 0;
  oneapi::tbb::task_arena arena(threads);
  arena.execute([&] {
    tf::graph g;
    std::int64_t next = 0;
    tf::input_node<Batch> source(g, [&](oneapi::tbb::flow_control& fc) -> Batch {
      if (next == items) {
        fc.stop();
        return {};
      }
      auto b = std::make_shared<std::vector<std::int64_t>>();
      const std::int64_t end = std::min(items, next + static_cast<std::int64_t>(batch));
      b->reserve(static_cast<std::size_t>(end - next));
      for (; next < end; ++next) b->push_back(next);
      return b;
    });
    tf::limiter_node<Batch> limit(g, static_cast<std::size_t>(4 * threads));
    auto stage = [](std::int64_t (*step)(std::int64_t)) {
      return [step](Batch b) {
        for (auto& x : *b) x = step(x);
        return b;
      };
    };
    tf::function_node<Batch, Batch> a(g, tf::unlimited, stage(S::add_one));
    tf::function_node<Batch, Batch> b(g, tf::unlimited, stage(S::twice));
    tf::function_node<Batch, Batch> c(g, tf::unlimited, stage(S::minus_three));
    tf::function_node<Batch, tf::continue_msg> total(g, tf::serial, [&](const Batch& v) {
      for (auto x : *v) sum += x;
      return tf::continue_msg();
    });
    tf::make_edge(source, limit);
    tf::make_edge(limit, a);
    tf::make_edge(a, b);
    tf::make_edge(b, c);
    tf::make_edge(c, total);
    tf::make_edge(total, limit.decrementer());
    source.activate();
    g.wait_for_all();
  });
  return sum;
}

}  // namespace aetherflow::bench
