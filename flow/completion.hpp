#pragma once
// How an async node's operation reports its result (flow/async.hpp, docs/nodes.md). The
// node's body gets one Completion per item and hands it to whatever does the work; that code
// calls exactly one of set_value, set_error or set_stopped, from any thread, now or later.
// The names are those of a receiver in C++26 std::execution, without depending on it:
//
//   flow.node("enrich", aetherflow::async([&client](Trade t, aetherflow::Completion<Quote> done) {
//     client.get(t.symbol, [t, done](Reply r) {
//       if (r.ok) done.set_value(Quote{t, r.body});
//       else done.set_error(std::make_exception_ptr(ServiceError(r.status)));
//     });
//   }), {.max_in_flight = 500, .operation_timeout = std::chrono::seconds(2)});
//
// A Completion is a handle, cheap to copy, so that it fits callbacks held in std::function
// (its members are const: a lambda needs no `mutable` to complete it): copies share one
// result, the first given; the others are ignored. When the last copy is destroyed without a
// result (the service dropped the callback), the item fails with OperationAbandoned at once,
// rather than waiting for the timeout. A result that comes after the run stopped waiting for
// it (the operation timed out, or the run was cancelled) is ignored and counted late in the
// report; the completion touches nothing of the node or the run, so it may come after
// Flow::run has returned.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

#include <flow/detail/operations.hpp>
#include <flow/errors.hpp>

namespace aetherflow {

namespace detail {
struct CompletionAccess;  // flow/detail/async_node.hpp makes them
}

// The item's operation did not complete within NodeOptions::operation_timeout.
class OperationTimedOut : public Error {
 public:
  using Error::Error;
};
// Its Completion was destroyed without a result.
class OperationAbandoned : public Error {
 public:
  using Error::Error;
};
// The operation reported set_stopped(): it was cancelled by what ran it.
class OperationStopped : public Error {
 public:
  using Error::Error;
};

template <class T>
class Completion {
 public:
  // The operation succeeded: `value` is the node's output for the item.
  template <class U = T>
  requires(!std::is_void_v<T> && std::is_convertible_v<U&&, T>) void set_value(U&& value) const {
    T made(std::forward<U>(value));  // first: a constructor that throws leaves it pending
    if (auto* op = take()) op->ops->succeed(op->index, op->attempt, std::move(made));
  }
  void set_value() const requires std::is_void_v<T> {
    if (auto* op = take()) op->ops->succeed(op->index, op->attempt);
  }
  // The operation failed: the node's error policy decides (retry, skip, dead letter, fail).
  void set_error(std::exception_ptr error) const noexcept {
    if (auto* op = take()) op->fail(std::move(error));
  }
  // The operation was cancelled by what ran it: a failure like set_error's (OperationStopped).
  void set_stopped() const noexcept {
    if (auto* op = take()) op->template fail_with<OperationStopped>("was stopped");
  }

  // Whether the node no longer waits for this result (it timed out, the run is stopping, or
  // a result was given): work on it may stop.
  bool stop_requested() const noexcept {
    return !*this || op_->ops->stop_requested(op_->index, op_->attempt);
  }
  // Whether a result is still to be given.
  explicit operator bool() const noexcept {
    return op_ && !op_->given.load(std::memory_order_acquire);
  }

 private:
  friend struct detail::CompletionAccess;
  // One operation's attempt, shared by the copies of its Completion.
  struct Op {
    std::shared_ptr<detail::Operations<T>> ops;
    std::size_t index;
    std::uint32_t attempt;
    std::atomic<bool> given{false};

    Op(std::shared_ptr<detail::Operations<T>> o, std::size_t i, std::uint32_t a)
        : ops(std::move(o)), index(i), attempt(a) {}
    Op(const Op&) = delete;
    Op& operator=(const Op&) = delete;
    ~Op() {
      if (given.load(std::memory_order_relaxed)) return;
      fail_with<OperationAbandoned>("ended without a result: its Completion was destroyed");
    }
    void fail(std::exception_ptr error) noexcept {
      ops->complete(index, attempt, std::move(error), [] {});
    }
    template <class E>
    void fail_with(const char* what) noexcept {
      try {
        fail(std::make_exception_ptr(E("node '" + ops->node() + "': the operation " + what)));
      } catch (...) {  // no memory for the message: the timeout, if any, catches the item
      }
    }
  };

  explicit Completion(std::shared_ptr<Op> op) : op_(std::move(op)) {}
  // The operation, if this is the first result given.
  Op* take() const noexcept {
    if (!op_ || op_->given.exchange(true, std::memory_order_acq_rel)) return nullptr;
    return op_.get();
  }

  std::shared_ptr<Op> op_;
};

}  // namespace aetherflow
