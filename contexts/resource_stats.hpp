#pragma once
// What a Context's providers did: see Context::stats().

#include <chrono>
#include <cstdint>
#include <string>

namespace aetherflow {

enum class ProviderKind { per_thread, shared, shared_concurrent, pooled, per_call, value };
const char* to_string(ProviderKind kind) noexcept;

struct ResourceStats {
  std::string type;  // readable type name
  std::string name;  // empty for an unnamed binding
  ProviderKind kind = ProviderKind::value;
  std::uint64_t instances = 0;     // alive now (per_call: none outlive their call)
  std::uint64_t acquisitions = 0;  // shared: locks taken; pooled: leases; per_call: instances made
  std::uint64_t waits = 0;         // acquisitions that waited (lock held, pool empty)
  std::chrono::nanoseconds wait_time{0};
};

}  // namespace aetherflow
