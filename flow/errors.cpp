#include <flow/errors.hpp>

#include <cxxabi.h>

#include <exception>
#include <typeinfo>

#include <fmt/format.h>

#include <flow/detail/type_name.hpp>

namespace aetherflow {
namespace {
std::string join_lines(const std::string& flow, const std::vector<std::string>& problems) {
  std::string text = fmt::format("flow '{}' is not valid ({} problem{}):", flow, problems.size(),
                                 problems.size() == 1 ? "" : "s");
  for (const auto& p : problems) text += "\n  - " + p;
  return text;
}
}  // namespace

FlowError::FlowError(const std::string& flow, std::vector<std::string> problems)
    : Error(join_lines(flow, problems)), problems_(std::move(problems)) {}

namespace {
std::string node_error_text(const std::string& node, std::uint64_t item, const std::string& what,
                            NodeError::Stage stage) {
  if (stage == NodeError::Stage::open)
    return fmt::format("node '{}' could not open its input: {}", node, what);
  if (stage == NodeError::Stage::finish)
    return fmt::format("node '{}' failed in finish(), after its last item ({} received): {}", node,
                       item, what);
  return fmt::format("node '{}' failed on item {}: {}", node, item, what);
}
}  // namespace

NodeError::NodeError(std::string node, std::uint64_t item, const std::string& what, Stage stage,
                     std::optional<std::size_t> rank)
    : Error((rank ? fmt::format("rank {}: ", *rank) : std::string()) +
            node_error_text(node, item, what, stage)),
      node_(std::move(node)),
      item_(item),
      stage_(stage),
      rank_(rank) {}

std::string describe_current_exception() {
  try {
    throw;
  } catch (const std::exception& e) {
    return detail::type_name(typeid(e)) + ": " + e.what();
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    return "exception of type " + (type ? detail::type_name(*type) : std::string("unknown"));
  }
}

std::string describe_exception(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (...) {
    return describe_current_exception();
  }
}

}  // namespace aetherflow
