#pragma once
// Readable name of a type, for messages and DOT ("std::string", not "NSt7__cxx1112basic...").
// A leaf: it includes no project header, so any layer may use it (contexts/ does, for its
// messages; docs/architecture.md, "Layers and the include rules").

#include <string>
#include <typeinfo>

namespace aetherflow::detail {

std::string type_name(const std::type_info& type);

}  // namespace aetherflow::detail
