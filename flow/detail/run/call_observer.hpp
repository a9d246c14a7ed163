#pragma once
// Observers of node calls, in the manner of Taskflow's ObserverInterface: what measures calls
// (the profiler, the batch-size learner, a concurrency range's limit) watches them from
// outside the call wrapper (call.hpp). A node with no observer pays nothing for them: its
// calls are not even timed.

#include <cstddef>
#include <cstdint>

#include <flow/report.hpp>

namespace aetherflow::detail {

class NodeImpl;
class InFlightToken;

// One call that ended: whose, when (CallClock ticks), what it did, and what it was called on.
struct ObservedCall {
  std::size_t node;  // the node's id; NodeRuntime::kNoId for a conversion on an edge
  const NodeImpl& impl;
  std::uint64_t start, end;
  const ItemCounts& counts;
  std::uint64_t ready;    // when its input became ready (ticks; 0: unknown)
  std::uint64_t emitted;  // when the input's source batch was emitted (ticks; 0: unknown)
  InFlightToken* token;   // the input's source batch (null: a source's read, a flush)
};

class CallObserver {
 public:
  // On the calling thread, after the call's counts were added to the run's: keep it short.
  virtual void call_ended(const ObservedCall& call) noexcept = 0;

 protected:
  ~CallObserver() = default;
};

}  // namespace aetherflow::detail
