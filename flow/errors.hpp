#pragma once
// The exceptions AetherFlow throws. Every message names what it is about: the flow, the node,
// the item, the types.

#include <cstdint>
#include <exception>
#include <memory>
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
  NodeError(std::string node, std::uint64_t item, const std::string& what);
  const std::string& node() const noexcept { return node_; }
  // Index of the failing item in its source's order (0 = the first item the source emitted).
  std::uint64_t item() const noexcept { return item_; }
  // What the failed run did up to the failure: every item counted, the failed one included.
  const RunReport& report() const noexcept { return *report_; }
  void set_report(RunReport report) {
    report_ = std::make_shared<const RunReport>(std::move(report));
  }

 private:
  std::string node_;
  std::uint64_t item_;
  std::shared_ptr<const RunReport> report_ = std::make_shared<const RunReport>();
};

// A checkpoint file that cannot be read or written, or is truncated or corrupt, or belongs to
// another flow: the message names the file and what is wrong (flow/checkpoint.hpp).
class CheckpointError : public Error {
 public:
  using Error::Error;
};

// One line describing the exception being handled: its type (demangled) and what().
// Must be called inside a catch block; works for exceptions of any type.
std::string describe_current_exception();
// The same for a stored exception.
std::string describe_exception(const std::exception_ptr& error);

}  // namespace aetherflow
