// The flow in Graphviz DOT: its nodes, then its edges, each in declaration order, which is the
// order plan.cpp's Boost.Graph model iterates them in: walking FlowData needs no model.
#include <flow/detail/dot.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <flow/detail/duration_text.hpp>
#include <flow/detail/type_name.hpp>

namespace aetherflow::detail {
namespace {
std::string escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string concurrency_text(const NodeImpl& node) {
  if (node.shape() == Shape::source) return "serial";
  const auto c = node.concurrency();
  return c == unlimited ? "unlimited" : c == serial ? "serial" : "max " + std::to_string(c);
}

// A node's heat: white for no share of the work, through yellow, to red for all of it.
std::string heat(double share) {
  return fmt::format("\"{:.3f} {:.3f} 1.000\"", 0.16 * (1 - share), std::min(1.0, 0.15 + share));
}

}  // namespace

std::string to_dot(const FlowData& flow, const Profile* profile) {
  std::ostringstream dot;
  // Top to bottom: flows are mostly long chains, which left to right render many times wider
  // than tall, too small to read at a page's width.
  dot << "digraph \"" << escaped(flow.name)
      << "\" {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", style=filled, fillcolor=white];\n";
  for (std::size_t id = 0; id < flow.nodes.size(); ++id) {
    const NodeImpl& node = *flow.nodes[id].impl;
    std::string about = node.traits().label;
    if (auto extra = node.detail_label(); !extra.empty()) about += " " + extra;
    about += " · " + concurrency_text(node);
    if (node.options().ordered) about += " · ordered";
    std::string attributes;
    if (profile) {
      const NodeProfile& n = profile->node(node.name());
      about += fmt::format("\\nbusy {:.0f}% · {}/item · p99 call {}\\n{} in, {} out",
                           n.busy_share * 100, duration_text(n.per_item_ns),
                           duration_text(n.call_latency.p99_ns), n.items_in, n.items_out);
      attributes = ", fillcolor=" + heat(n.busy_share);
      if (node.name() == profile->bottleneck) attributes += ", penwidth=3, color=red";
    }
    dot << "  n" << id << " [label=\"" << escaped(node.name()) << "\\n"
        << about << "\", shape=" << node.traits().dot_shape << attributes << "];\n";
  }
  for (const EdgeDecl& e : flow.edges) {
    const NodeImpl& from = *flow.nodes[e.from].impl;
    const NodeImpl& to = *flow.nodes[e.to].impl;
    std::vector<std::string> label;
    if (auto port = from.port_label(e.from_port); !port.empty()) label.push_back(port);
    if (to.shape() == Shape::join) label.push_back("in " + std::to_string(e.to_port + 1));
    // A converting edge ends at an input, whose type is always known.
    if (e.converter) label.push_back("as " + type_name(*to.input_types()[e.to_port]));
    dot << "  n" << e.from << " -> n" << e.to;
    if (!label.empty())
      dot << " [label=\"" << escaped(fmt::format("{}", fmt::join(label, ", "))) << "\"]";
    dot << ";\n";
  }
  dot << "}\n";
  return dot.str();
}

}  // namespace aetherflow::detail
