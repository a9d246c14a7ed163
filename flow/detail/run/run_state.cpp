#include <flow/detail/run/run_state.hpp>

#include <algorithm>
#include <memory>

#include <fmt/format.h>

namespace aetherflow::detail {

bool RunState::take_reason(std::string reason, bool drain) {
  const bool replaces_drain = drained_ && !drain;
  if (!stop_reason_.empty() && !replaces_drain) return false;
  stop_reason_ = std::move(reason);
  drained_ = drain;
  return true;
}

bool RunState::stop_early(std::string reason, bool cancelled) {
  bool first = false;
  {
    std::lock_guard lock(mutex_);  // also so that an await() cannot miss the stop
    first = take_reason(std::move(reason), false);
    if (first) cancelled_ = cancelled;
    stop_.store(true, std::memory_order_relaxed);
    sources_stop_.store(true, std::memory_order_relaxed);
    for (Wakeup* waiting : awaiting_) waiting->fire();
  }
  timer_.expire_all();  // the deadline's action too: it finds the run stopped already
  return first;
}

std::string RunState::failed_reason(const std::string& node) const {
  return fmt::format("{}node '{}' failed", rank_ ? fmt::format("rank {}: ", *rank_) : "", node);
}

void RunState::fail(const std::string& node, std::uint64_t item, const std::string& what,
                    NodeError::Stage stage) {
  stop_early(failed_reason(node), false);
  record_failure(node, item, what, stage);
}

void RunState::fail_source(const std::string& node, std::uint64_t item, const std::string& what) {
  {
    std::lock_guard lock(mutex_);
    take_reason(failed_reason(node), false);
    sources_stop_.store(true, std::memory_order_relaxed);
  }
  record_failure(node, item, what, NodeError::Stage::item);
}

void RunState::drain(std::string reason) {
  std::lock_guard lock(mutex_);
  sources_stop_.store(true, std::memory_order_relaxed);
  take_reason(std::move(reason), true);
}

void RunState::graph_drained() {
  // Not after drain(), whose held items are flushed as at the end of the input.
  if (!stopping() && failure())
    stop_early({}, false);  // the reason, the source's failure, is set already
}

void RunState::record_failure(const std::string& node, std::uint64_t item, const std::string& what,
                              NodeError::Stage stage) {
  {
    std::lock_guard lock(mutex_);
    if (failure_) return;
    try {
      std::throw_with_nested(NodeError(node, item, what, stage, rank_));
    } catch (...) {
      failure_ = std::current_exception();
    }
  }
  if (tell_) tell_(NodeError(node, item, what, stage, rank_));
}

void RunState::fail_remote(const NodeError& error) {
  stop_early(fmt::format("rank {}: node '{}' failed", error.rank().value_or(0), error.node()),
             false);
  std::lock_guard lock(mutex_);
  if (!failure_) failure_ = std::make_exception_ptr(error);
}

std::exception_ptr RunState::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

RunState::Ending RunState::ending() const {
  std::lock_guard lock(mutex_);
  return {cancelled_, stop_reason_};
}

void RunState::wait(std::chrono::nanoseconds delay) {
  const auto delayed = std::make_shared<Wakeup>();
  await(*delayed, std::chrono::steady_clock::now() + delay);
}

// The timer fires the wakeup at the deadline; it holds it weakly, as the entry outlives a wait
// that ended sooner. A fire() meant for an earlier wait on the same wakeup may end a later one
// early: waiters look again at what they wait for.
void RunState::await(Wakeup& wakeup, std::chrono::steady_clock::time_point deadline) {
  // The timer entry first: timer_.at may throw, and nothing may then stay registered.
  if (deadline != std::chrono::steady_clock::time_point::max())
    timer_.at(deadline, [weak = wakeup.weak_from_this()] {
      if (const auto alive = weak.lock()) alive->fire();
    });
  {
    std::lock_guard lock(mutex_);
    if (stopping()) return;
    awaiting_.push_back(&wakeup);
  }
  wakeup.wait();
  std::lock_guard lock(mutex_);
  std::erase(awaiting_, &wakeup);
}

}  // namespace aetherflow::detail
