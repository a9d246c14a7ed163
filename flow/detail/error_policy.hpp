#pragma once
// Error policies, in one place: what happens to an item whose call threw (NodeOptions::retry,
// NodeOptions::on_error), and which nodes may take which policy. docs/extending.md adds a
// policy; docs/errors.md is what users read.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include <flow/dead_letter.hpp>
#include <flow/detail/batch.hpp>
#include <flow/detail/flow_data.hpp>
#include <flow/detail/node_impl.hpp>
#include <flow/errors.hpp>
#include <flow/options.hpp>
#include <flow/wire.hpp>

namespace aetherflow::detail {

// Retry and dead_letter need a failed item intact: the body gets a copy or a const view.
inline bool keeps_failed_items(const NodeOptions& o) noexcept {
  return o.retry || o.on_error == OnError::dead_letter;
}
// The dead-letter port of a node, after its output if it has one (OnError::dead_letter).
inline bool has_dead_letters(const NodeOptions& o) noexcept {
  return o.on_error == OnError::dead_letter;
}

// The policies of one call on a batch of `In` items: whether to try an item again, and what
// becomes of it when the node gives up on it.
template <class In>
class ItemFailures {
 public:
  ItemFailures(const NodeImpl& node, const BatchBase& batch) : node_(node) {
    // One dead-letter batch per call, like every port, so that fan-ins downstream pair.
    if (has_dead_letters(node.options())) dead_ = derive_batch<DeadLetter<In>>(batch, 0);
  }

  // After attempt `attempt` on an item threw `error`: try again after the retry delay, give
  // up on the item, or leave it as the run is stopping.
  enum class Next { retry, give_up, leave };
  Next after(std::size_t attempt, const std::exception_ptr& error, CallContext& ctx) const {
    const Next next = decide(attempt, error, ctx);
    if (next != Next::retry) return next;
    if (ctx.run) ctx.run->wait(retry_delay(attempt));
    return ctx.stopping() ? Next::leave : Next::retry;
  }
  // The same decision without the wait, for a node that waits for the retry itself (an async
  // node keeps its other operations going meanwhile): retry after retry_delay(attempt).
  Next decide(std::size_t attempt, const std::exception_ptr& error, const CallContext& ctx) const {
    const auto& retry = node_.options().retry;
    if (ctx.stopping()) return Next::leave;
    if (!retry || attempt > retry->retries) return Next::give_up;
    if (retry->retryable && !retry->retryable(error)) return Next::give_up;
    return Next::retry;
  }
  std::chrono::nanoseconds retry_delay(std::size_t attempt) const {
    return node_.options().retry->delay_before(attempt);
  }

  // The node gives up on `item` (in slot `slot`) after `attempts` calls: the run fails
  // (OnError::fail), the item is dropped (skip) or sent to the dead letters.
  void give_up(In& item, std::uint32_t slot, bool owned, std::size_t attempts,
               const std::exception_ptr& error, CallContext& ctx) {
    ++ctx.counts.failed;
    switch (node_.options().on_error) {
      case OnError::fail:
        ctx.failure = error;
        ctx.failed_slot = slot;
        break;
      case OnError::skip:
        ++ctx.counts.skipped;
        break;
      case OnError::dead_letter:
        ++ctx.counts.dead_lettered;
        dead_->push({take_item(item, owned), node_.name(), describe_exception(error), attempts},
                    slot);
        break;
    }
  }

  // The call's dead letters, into `port` of `out` (nothing without the policy), after those
  // already there (a keyed node's call also applies items another rank sent).
  void send(std::span<BatchHandle> out, std::size_t port) {
    if (!dead_) return;
    if (!out[port]) {
      out[port] = std::move(dead_);
      return;
    }
    auto& into = batch_cast<DeadLetter<In>>(out[port]);
    for (auto& letter : dead_->values)
      into.push(std::move(letter), static_cast<std::uint32_t>(into.values.size()));
    dead_ = {};
  }

 private:
  const NodeImpl& node_;
  Ref<Batch<DeadLetter<In>>> dead_;
};

// A node of one input that applies the policies per item (a step, a keyed node): under
// OnError::dead_letter its failed items leave on a port of their own, after its output if it
// has one.
template <class In>
class NodeWithDeadLetters : public NodeImpl {
 public:
  using NodeImpl::NodeImpl;

  std::size_t output_ports() const override {
    return (output_ ? 1 : 0) + (has_dead_letters(options()) ? 1 : 0);
  }
  const std::type_info* port_type(std::size_t port) const override {
    return port == dead_letter_port() ? &typeid(DeadLetter<In>) : output_;
  }
  std::string port_label(std::size_t port) const override {
    return port == dead_letter_port() ? "dead letters" : std::string();
  }
  const ItemWire* input_wire() const override { return wire_of<In>(); }

 protected:
  std::size_t dead_letter_port() const noexcept { return output_ ? 1 : 0; }
};

// A node keeping failed items must be able to copy them.
template <class In>
void check_failed_items_copyable(const NodeImpl& node, std::vector<std::string>& problems) {
  if (keeps_failed_items(node.options()) && !std::is_copy_constructible_v<In>)
    problems.push_back(fmt::format(
        "node '{}': retry and dead_letter keep each item until its call succeeds, which takes "
        "a copy, but {} cannot be copied",
        node.name(), type_name(typeid(In))));
}

// Policies other than the default apply to nodes calling user code one item at a time; an
// ordered sink sends no dead letters; dead letters are connected only where there are some.
void check_error_policies(const FlowData& flow, std::vector<std::string>& problems);

}  // namespace aetherflow::detail
