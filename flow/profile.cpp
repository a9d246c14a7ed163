// What a Profile answers itself: a node by name, and the service-level check. Its outputs have
// a file each: profile_table.cpp, profile_json.cpp, profile_chrome_trace.cpp,
// profile_prometheus.cpp.
#include <flow/profile.hpp>

#include <stdexcept>

#include <fmt/format.h>

#include <flow/detail/duration_text.hpp>

namespace aetherflow {

using detail::duration_text;

const NodeProfile& Profile::node(std::string_view name) const {
  for (const auto& n : nodes)
    if (n.name == name) return n;
  throw std::out_of_range(fmt::format("profile of flow '{}' has no node '{}'", flow, name));
}

std::vector<SlaClause> check(const Profile& p, const Sla& sla) {
  std::vector<SlaClause> clauses;
  auto clause = [&](std::string name, bool pass, double measured, double limit, std::string text) {
    clauses.push_back({std::move(name), pass, measured, limit,
                       fmt::format("{}: {} ({})", pass ? "pass" : "FAIL", text,
                                   pass ? "within the objective" : "outside the objective")});
  };
  if (sla.max_p99_latency_ns) {
    const auto measured = static_cast<double>(p.end_to_end.p99_ns);
    const auto limit = static_cast<double>(*sla.max_p99_latency_ns);
    clause("p99 latency", measured <= limit, measured, limit,
           fmt::format("end-to-end p99 {} against at most {}", duration_text(p.end_to_end.p99_ns),
                       duration_text(*sla.max_p99_latency_ns)));
  }
  if (sla.min_items_per_second)
    clause("throughput", p.items_per_second >= *sla.min_items_per_second, p.items_per_second,
           *sla.min_items_per_second,
           fmt::format("{:.0f} items/s against at least {:.0f}", p.items_per_second,
                       *sla.min_items_per_second));
  if (sla.max_error_rate) {
    const double rate = p.items ? static_cast<double>(p.errors) / static_cast<double>(p.items) : 0;
    clause("error rate", rate <= *sla.max_error_rate, rate, *sla.max_error_rate,
           fmt::format("error rate {:.4f} against at most {:.4f}", rate, *sla.max_error_rate));
  }
  return clauses;
}

}  // namespace aetherflow
