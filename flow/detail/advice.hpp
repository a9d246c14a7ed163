#pragma once
// The profile's conclusions: the hot spot (where the work is) and the bottleneck (what limits
// throughput), each with a line of advice. A pure function of the profile's numbers, so the
// rules are tested on profiles with a known answer (tests/internals/advice_test.cpp).

#include <flow/profile.hpp>

namespace aetherflow::detail {

// Fills p.hot_spot, p.bottleneck and p.advice from the nodes' figures.
void advise(Profile& p);

}  // namespace aetherflow::detail
