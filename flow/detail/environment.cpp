#include <flow/detail/environment.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include <flow/errors.hpp>

namespace aetherflow::detail {
namespace {

std::optional<std::string> variable(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

std::size_t threads_from_environment() {
  const auto env = variable("AETHERFLOW_THREADS");
  if (!env) return 0;
  char* end = nullptr;
  const unsigned long n = std::strtoul(env->c_str(), &end, 10);
  if (*end != '\0' || n == 0 || n > 4096 || !std::isdigit(static_cast<unsigned char>((*env)[0])))
    throw Error(fmt::format("AETHERFLOW_THREADS='{}' is not a thread count from 1 to 4096", *env));
  return n;
}

std::optional<std::string> profile_directory_from_environment() {
  const auto env = variable("AETHERFLOW_PROFILE");
  if (!env) return std::nullopt;
  const std::string word = lower(*env);
  if (word == "off" || word == "0" || word == "false" || word == "no") return std::nullopt;
  std::error_code error;
  const std::filesystem::path dir(*env);
  if (std::filesystem::exists(dir, error) && !std::filesystem::is_directory(dir, error))
    throw Error(fmt::format(
        "AETHERFLOW_PROFILE='{}' is a file, not a directory: name a directory to write the "
        "profiles to, or set it to off",
        *env));
  std::filesystem::create_directories(dir, error);
  if (error)
    throw Error(fmt::format("AETHERFLOW_PROFILE='{}': cannot create the directory: {}", *env,
                            error.message()));
  return env;
}

std::optional<spdlog::level::level_enum> parse_log_level(const std::string& text) {
  static constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 9> levels{{
      {"trace", spdlog::level::trace},
      {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},
      {"warning", spdlog::level::warn},
      {"error", spdlog::level::err},
      {"err", spdlog::level::err},
      {"critical", spdlog::level::critical},
      {"off", spdlog::level::off},
  }};
  const std::string word = lower(text);
  for (const auto& [name, level] : levels)
    if (word == name) return level;
  return std::nullopt;
}

spdlog::level::level_enum log_level_from_environment() {
  const auto env = variable("AETHERFLOW_LOG_LEVEL");
  if (!env) return spdlog::level::warn;
  if (auto level = parse_log_level(*env)) return *level;
  throw Error(fmt::format(
      "AETHERFLOW_LOG_LEVEL='{}' is not a log level: trace, debug, info, warn, error, critical "
      "or off, in any case",
      *env));
}

void check_environment() {
  threads_from_environment();
  log_level_from_environment();
}

}  // namespace aetherflow::detail
