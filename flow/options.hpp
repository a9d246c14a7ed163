#pragma once
// Options for nodes and runs. Designated initialisers read well here:
//   flow.node("parse", parse, {.concurrency = aetherflow::serial});
//   flow.run({.threads = 2, .batch_size = 512});

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
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

// Where a run is: passed to RunOptions::progress every progress_interval, and once at the end.
struct Progress {
  std::uint64_t items = 0;                   // emitted by the sources so far
  std::uint64_t bytes = 0;                   // read by the sources that read bytes
  std::optional<std::uint64_t> total_bytes;  // when every such source knows its size
  std::chrono::nanoseconds elapsed{0};
  double items_per_second = 0;
  double bytes_per_second = 0;
  std::optional<std::chrono::nanoseconds> eta;  // from bytes, when the total is known
  bool done = false;                            // the last report of a run that finished
  // Fraction of the bytes read, 0 to 1, when the total is known.
  std::optional<double> fraction() const {
    if (!total_bytes) return std::nullopt;
    return *total_bytes ? static_cast<double>(bytes) / static_cast<double>(*total_bytes) : 1.0;
  }
};

struct RunOptions {
  // Worker threads. 0: the AETHERFLOW_THREADS environment variable if set, else every core.
  std::size_t threads = 0;
  // Items per batch: larger amortises more overhead, smaller lowers latency.
  std::size_t batch_size = 256;
  // Source batches in flight at once, per source (back-pressure). 0: four per thread.
  std::size_t max_batches_in_flight = 0;
  // Called with the run's progress from a source's thread, at most once per interval, and
  // once more when the run has finished. Keep it short: the source waits for it.
  std::function<void(const Progress&)> progress = {};
  std::chrono::milliseconds progress_interval{200};
  // Profile the run: RunReport::profile (see flow/profile.hpp). Also switched on, without
  // rebuilding, by AETHERFLOW_PROFILE=<directory>, which writes every output there.
  bool profile = false;
  // At most this many node calls go into the profile's trace; later ones are counted only.
  std::size_t trace_events = 100'000;
};

}  // namespace aetherflow
