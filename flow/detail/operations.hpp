#pragma once
// The operations of an async node (flow/async.hpp): a call starts one per item and waits,
// suspended, until they complete. Two parts, both shared with the completions, which may come
// from any thread at any time, even after the run: nothing here points back to the node or
// the run, so a late completion touches only these.
//   - OperationGate, one per node: the limit on operations in flight (NodeOptions::
//     max_in_flight) across all of the node's calls, a queue of the calls waiting for a slot,
//     and what the report and the profile say of the operations.
//   - Operations<T>, one per call: each item's operation, its state and attempt, and its
//     result; the call's wakeup, fired when the call has something to do.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <flow/detail/histogram.hpp>
#include <flow/detail/wakeup.hpp>
#include <flow/options.hpp>
#include <flow/profile.hpp>
#include <flow/report.hpp>

namespace aetherflow::detail {

using OperationClock = std::chrono::steady_clock;

// NodeOptions::max_in_flight, 64 when unset.
inline std::size_t max_in_flight(const NodeOptions& options) noexcept {
  return options.max_in_flight.value_or(64);
}

class OperationGate {
 public:
  // Readies the gate for a run: `limit` operations at once, the counts and the profile's
  // records started over.
  void begin_run(std::size_t limit, OperationClock::time_point start);

  // Takes a slot for one operation; or, all being taken, queues `waiter` (once) to be fired
  // when one frees, and returns false.
  bool try_acquire(const std::shared_ptr<Wakeup>& waiter);
  // `waiter` wants no slot now (it has nothing left to start, or its call is ending): it
  // leaves the queue, and a slot it was woken for goes to the next waiter.
  void leave(const Wakeup& waiter);
  // An operation's slot frees: it completed after `latency`, or (nullopt) it timed out or was
  // abandoned.
  void release(std::optional<std::chrono::nanoseconds> latency, std::uint64_t& counter);
  void release_completed(std::chrono::nanoseconds latency) { release(latency, completed_); }
  void release_timed_out() { release(std::nullopt, timed_out_); }
  void release_abandoned() { release(std::nullopt, abandoned_); }
  void count_late();

  OperationsReport report() const;
  std::size_t in_flight_now() const;
  // Each completed operation's latency, in nanoseconds; the in-flight samples.
  Histogram latency() const;
  std::vector<InFlightSample> in_flight() const;

 private:
  void took_slot(OperationClock::time_point now);  // the caller holds the lock
  void sample(OperationClock::time_point now);     // the caller holds the lock
  void wake_next();                                // the caller holds the lock

  mutable std::mutex mutex_;
  std::size_t limit_ = 1;
  std::size_t in_flight_ = 0;
  std::size_t peak_ = 0;
  std::uint64_t started_ = 0, completed_ = 0, timed_out_ = 0, abandoned_ = 0, late_ = 0;
  std::deque<std::shared_ptr<Wakeup>> waiters_;
  Histogram latency_;
  OperationClock::time_point start_{};
  OperationClock::time_point last_sample_{};
  std::chrono::nanoseconds sample_every_{std::chrono::milliseconds(1)};
  std::vector<InFlightSample> samples_;
};

// One call's operations, but for their results (Operations<T>).
class OperationsBase {
 public:
  OperationsBase(std::shared_ptr<OperationGate> gate, std::size_t items, std::string node);
  OperationsBase(const OperationsBase&) = delete;
  OperationsBase& operator=(const OperationsBase&) = delete;

  OperationGate& gate() noexcept { return *gate_; }
  const std::shared_ptr<Wakeup>& wakeup() const noexcept { return wakeup_; }

  // The call's side, under the lock of each.
  // Item i's operation starts: returns its attempt number, 1 for the first.
  std::uint32_t begin(std::size_t i);
  struct Failed {
    std::size_t index;
    std::uint32_t attempts;
    std::exception_ptr error;
  };
  // The operations that failed since the last look, and those running past `timeout` (zero:
  // none), which time out now: each is the call's to decide on (retry it or give up).
  std::vector<Failed> take_failed(std::chrono::nanoseconds timeout);
  // When the first running operation times out (max(): none does).
  OperationClock::time_point next_timeout(std::chrono::nanoseconds timeout) const;
  // Whether nothing is left to wait for: no operation running, no failure undecided.
  bool settled() const;
  bool succeeded(std::size_t i) const;
  // The call ends: operations still running are abandoned, their slots freed; what completes
  // later is late.
  void close();

  // The completions' side.
  bool stop_requested(std::size_t i, std::uint32_t attempt) const;
  // Attempt `attempt` of operation i ended: with `error`, or else with a value that `store`
  // keeps (called under the lock). Late (ignored, counted) if the call gave up on it.
  template <class Store>
  void complete(std::size_t i, std::uint32_t attempt, std::exception_ptr error, Store&& store) {
    std::unique_lock lock(mutex_);
    if (!awaited(i, attempt)) {
      lock.unlock();
      gate_->count_late();
      return;
    }
    if (!error) {
      try {
        store();
      } catch (...) {  // the value could not be kept: the item fails with why
        error = std::current_exception();
      }
    }
    ended(i, std::move(error), lock);
  }
  // The messages of the errors it makes: they name the node.
  const std::string& node() const noexcept { return node_; }

 protected:
  ~OperationsBase() = default;

 private:
  enum class State : std::uint8_t { idle, running, succeeded, failed, deciding, abandoned };
  struct Op {
    State state = State::idle;
    std::uint32_t attempt = 0;
    OperationClock::time_point started{};
    std::exception_ptr error;
  };
  bool awaited(std::size_t i, std::uint32_t attempt) const {
    return ops_[i].attempt == attempt && ops_[i].state == State::running;
  }
  // Frees the slot, unlocks `lock`, and wakes the call if it has something to do: a failure
  // to decide on, or nothing left running.
  void ended(std::size_t i, std::exception_ptr error, std::unique_lock<std::mutex>& lock);

  const std::shared_ptr<OperationGate> gate_;
  const std::shared_ptr<Wakeup> wakeup_ = std::make_shared<Wakeup>();
  const std::string node_;
  mutable std::mutex mutex_;
  std::vector<Op> ops_;
  std::size_t running_ = 0;
  std::size_t undecided_ = 0;  // failed, not yet taken by take_failed()
  bool closed_ = false;
};

// The results: a value per item whose operation succeeded (none for an async sink).
template <class T>
class Operations final : public OperationsBase {
 public:
  Operations(std::shared_ptr<OperationGate> gate, std::size_t items, std::string node)
      : OperationsBase(std::move(gate), items, std::move(node)), values_(items) {}

  void succeed(std::size_t i, std::uint32_t attempt, T&& value) {
    complete(i, attempt, nullptr, [&] { values_[i] = std::move(value); });
  }
  // After close(): the value of a succeeded operation.
  T take(std::size_t i) { return std::move(*values_[i]); }

 private:
  std::vector<std::optional<T>> values_;
};

template <>
class Operations<void> final : public OperationsBase {
 public:
  using OperationsBase::OperationsBase;
  void succeed(std::size_t i, std::uint32_t attempt) {
    complete(i, attempt, nullptr, [] {});
  }
};

}  // namespace aetherflow::detail
