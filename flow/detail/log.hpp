#pragma once
// The framework's own logger: quiet by default (warnings only), level from the environment:
// AETHERFLOW_LOG_LEVEL=trace|debug|info|warn|error|critical|off, in any case
// (environment.hpp).

#include <spdlog/logger.h>

namespace aetherflow::detail {

spdlog::logger& log();

}  // namespace aetherflow::detail
