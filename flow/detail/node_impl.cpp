#include <flow/detail/node_impl.hpp>

#include <flow/detail/resource_args.hpp>
#include <flow/errors.hpp>

namespace aetherflow::detail {

std::size_t NodeImpl::concurrency() const noexcept {
  if (shape() == Shape::ordered) return serial;
  if (options_.adaptive) return options_.adaptive->max;  // the run's limit is lower (executor)
  if (options_.concurrency) return *options_.concurrency;
  // Every node without an output is a sink in role, a fan-in of branches included.
  return output_ == nullptr ? serial : unlimited;
}

std::vector<ResourceNeed> NodeImpl::resource_needs() const {
  return {};
}

// The run calls open() on sources and process() on every other node only.
std::unique_ptr<SourceCursor> NodeImpl::open(const ResumePoint&) const {
  throw Error("node '" + name_ + "' is not a source");
}

void NodeImpl::process(std::span<const BatchHandle>, std::span<BatchHandle>, CallContext&) const {
  throw Error("source '" + name_ + "' takes no input");
}

}  // namespace aetherflow::detail
