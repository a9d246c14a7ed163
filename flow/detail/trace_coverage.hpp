#pragma once
// Shared by the profile's outputs that say how much of the run its trace holds: the table
// (flow/profile_table.cpp) and the Chrome trace (flow/profile_chrome_trace.cpp).

#include <string>

#include <fmt/format.h>

#include <flow/profile.hpp>

namespace aetherflow::detail {

// What of the run the trace covers, in one line.
inline std::string trace_coverage(const Profile& p) {
  if (p.trace_dropped == 0) return fmt::format("every call ({})", p.trace.size());
  return fmt::format(
      "{} of {} calls, sampled evenly over the whole run (RunOptions::trace_events raises the "
      "cap)",
      p.trace.size(), p.trace.size() + p.trace_dropped);
}

}  // namespace aetherflow::detail
