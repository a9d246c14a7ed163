#include <flow/detail/log.hpp>

#include <cstdlib>
#include <memory>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace aetherflow::detail {

spdlog::logger& log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>(
        "aetherflow", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    const char* level = std::getenv("AETHERFLOW_LOG_LEVEL");
    l->set_level(level ? spdlog::level::from_str(level) : spdlog::level::warn);
    l->set_pattern("[%H:%M:%S.%e] [aetherflow] [%^%l%$] %v");
    return l;
  }();
  return *logger;
}

}  // namespace aetherflow::detail
