#pragma once
// Options for nodes and runs. Designated initialisers read well here:
//   flow.node("parse", parse, {.concurrency = aetherflow::serial});
//   flow.run({.threads = 2, .batch_size = 512});

#include <cstddef>
#include <optional>

namespace aetherflow {

// Concurrency of a node: how many calls of its body may run at once.
inline constexpr std::size_t serial = 1;
inline constexpr std::size_t unlimited = 0;

struct NodeOptions {
  // Unset: sinks are serial (they usually write to one place), every other node unlimited.
  std::optional<std::size_t> concurrency = std::nullopt;
  // Sinks only: deliver items in the order their source emitted them. Implies serial.
  bool ordered = false;
};

struct RepeatOptions {
  // true: an exception in any round fails the item (and so the run). false: the item goes on
  // with the value of the last round that succeeded (the input itself if the first round
  // failed), and the swallowed exception is counted in the node's `errors`.
  bool stop_on_error = true;
  NodeOptions node = {};
};

struct RunOptions {
  // Worker threads. 0: the AETHERFLOW_THREADS environment variable if set, else every core.
  std::size_t threads = 0;
  // Items per batch: larger amortises more overhead, smaller lowers latency.
  std::size_t batch_size = 256;
  // Source batches in flight at once, per source (back-pressure). 0: four per thread.
  std::size_t max_batches_in_flight = 0;
};

}  // namespace aetherflow
