#pragma once
// The exceptions AetherFlow throws. Every message names what it is about: the flow, the node,
// the item, the types.

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <flow/report.hpp>

namespace aetherflow {

// Base of everything AetherFlow throws itself.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A flow that cannot run as declared. Thrown before any data moves, listing every problem
// found, one per line of what().
class FlowError : public Error {
 public:
  FlowError(const std::string& flow, std::vector<std::string> problems);
  const std::vector<std::string>& problems() const noexcept { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// A node body threw during a run. The body's own exception is nested in this one
// (std::rethrow_if_nested reaches it); what() names the node and the item.
class NodeError : public Error {
 public:
  // Where in the node the failure happened: opening a source's input when the run started, a
  // call on an item, or its finish() at the end of the run (docs/nodes.md), after its last
  // item.
  enum class Stage { open, item, finish };

  // `rank`: on a cluster run (docs/distributed.md), the rank the node failed on, which the
  // message names first; every rank's run throws it.
  NodeError(std::string node, std::uint64_t item, const std::string& what,
            Stage stage = Stage::item, std::optional<std::size_t> rank = std::nullopt);
  const std::string& node() const noexcept { return node_; }
  std::optional<std::size_t> rank() const noexcept { return rank_; }
  Stage stage() const noexcept { return stage_; }
  // Stage::item: index of the failing item in its source's order (0 = the first item the
  // source emitted). Stage::open: the item the source was to start at (0, or a checkpoint's).
  // Stage::finish: no item failed; the number of items the node received.
  std::uint64_t item() const noexcept { return item_; }
  // What the failed run did up to the failure: every item counted, the failed one included.
  const RunReport& report() const noexcept { return *report_; }
  void set_report(RunReport report) {
    report_ = std::make_shared<const RunReport>(std::move(report));
  }

 private:
  std::string node_;
  std::uint64_t item_;
  Stage stage_;
  std::optional<std::size_t> rank_;
  std::shared_ptr<const RunReport> report_ = std::make_shared<const RunReport>();
};

// A checkpoint file that cannot be read or written, or is truncated or corrupt, or belongs to
// another flow: the message names the file and what is wrong (flow/checkpoint.hpp).
class CheckpointError : public Error {
 public:
  using Error::Error;
};

// Finds an exception of type E in `error` or nested in it, at any depth (a NodeError nests
// the exception its node threw), and calls `handle(const E&)` with it. Returns whether it
// found one:
//   catch (const aetherflow::NodeError& e) {
//     aetherflow::find_cause<aetherflow::IoError>(e, [](const auto& io) { report(io.what()); });
//   }
template <class E, class Handle>
bool find_cause(const std::exception& error, Handle&& handle) {
  if (const auto* found = dynamic_cast<const E*>(&error)) {
    handle(*found);
    return true;
  }
  try {
    std::rethrow_if_nested(error);
  } catch (const std::exception& cause) {
    return find_cause<E>(cause, handle);
  } catch (...) {
  }
  return false;
}

// One line describing the exception being handled: its type (demangled) and what().
// Must be called inside a catch block; works for exceptions of any type.
std::string describe_current_exception();
// The same for a stored exception.
std::string describe_exception(const std::exception_ptr& error);

}  // namespace aetherflow
