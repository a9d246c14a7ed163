#include <flow/detail/log.hpp>

#include <memory>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <flow/detail/environment.hpp>
#include <flow/errors.hpp>

namespace aetherflow::detail {

spdlog::logger& log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>(
        "aetherflow", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    // A bad value is reported by the run that starts (check_environment); logging cannot
    // throw, so until then it stays at the default.
    spdlog::level::level_enum level = spdlog::level::warn;
    try {
      level = log_level_from_environment();
    } catch (const Error&) {
    }
    l->set_level(level);
    l->set_pattern("[%H:%M:%S.%e] [aetherflow] [%^%l%$] %v");
    return l;
  }();
  return *logger;
}

}  // namespace aetherflow::detail
