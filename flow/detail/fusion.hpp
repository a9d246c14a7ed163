#pragma once
// Fusion: a chain of one-to-one nodes runs as one oneTBB node, which calls each node in turn on
// the batch the previous one made. A batch then costs one oneTBB task per chain instead of one
// per node, and stays in the cache of the thread that started it. Each node is still called,
// counted, profiled and named in errors on its own: fusion changes which oneTBB node runs the
// call, nothing a user can see but the time it takes.

#include <cstddef>
#include <vector>

#include <flow/detail/flow_data.hpp>

namespace aetherflow::detail {

inline constexpr std::size_t kNotFused = static_cast<std::size_t>(-1);

// For each node id, the node it runs right after in the same oneTBB node, or kNotFused. Node B
// is fused after node A when the edge A -> B is A's only edge out and B's only edge in, carries
// no conversion, and both A and B
//   - have unlimited concurrency (fusing two serial nodes would serialise them together), no
//     concurrency range, one input, and at most one output port (no branch, no dead letters);
//   - need no oneTBB node of their own: not a source (its limiter), a fan-in (its join), an
//     ordered sink (its reordering) or a node that holds items (its timed flushes).
std::vector<std::size_t> fused_after(const FlowData& flow);

}  // namespace aetherflow::detail
