#include <flow/detail/node_impl.hpp>

#include <flow/detail/resource_args.hpp>
#include <flow/errors.hpp>

namespace aetherflow::detail {

const char* to_string(NodeKind kind) noexcept {
  switch (kind) {
    case NodeKind::source:
      return "source";
    case NodeKind::transform:
      return "transform";
    case NodeKind::filter:
      return "filter";
    case NodeKind::expand:
      return "expand";
    case NodeKind::sink:
      return "sink";
    case NodeKind::fan_in:
      return "fan_in";
    case NodeKind::branch:
      return "branch";
    case NodeKind::repeat:
      return "repeat";
    case NodeKind::batch:
      return "batch";
  }
  return "?";
}

std::size_t NodeImpl::concurrency() const noexcept {
  if (kind_ == NodeKind::sink && options_.ordered) return serial;
  if (options_.adaptive) return options_.adaptive->max;  // the run's limit is lower (executor)
  if (options_.concurrency) return *options_.concurrency;
  // Every node without an output is a sink in role, a fan-in of branches included.
  return output_ == nullptr ? serial : unlimited;
}

std::vector<ResourceNeed> NodeImpl::resource_needs() const {
  return {};
}

// The executor calls open() on sources and process() on every other node only.
std::unique_ptr<SourceCursor> NodeImpl::open(const ResumePoint&) const {
  throw Error("node '" + name_ + "' is not a source");
}

void NodeImpl::process(std::span<const BatchHandle>, std::span<BatchHandle>, CallContext&) const {
  throw Error("source '" + name_ + "' takes no input");
}

}  // namespace aetherflow::detail
