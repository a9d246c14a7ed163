#pragma once
// The environment variables AetherFlow reads, each parsed in one place. A value that cannot
// be understood is an aetherflow::Error naming the variable and the value, thrown when a run
// starts, before any data moves: a typo never silently changes what a run does.
//
//   AETHERFLOW_THREADS=N          worker threads when RunOptions::threads is 0
//   AETHERFLOW_PROFILE=DIR|off    profile every run and write its outputs to DIR
//   AETHERFLOW_LOG_LEVEL=LEVEL    trace, debug, info, warn, error, critical or off (any case)
//
// An unset or empty variable means its default.

#include <cstddef>
#include <optional>
#include <string>

#include <spdlog/common.h>

namespace aetherflow::detail {

// AETHERFLOW_THREADS, or 0 when unset.
std::size_t threads_from_environment();

// AETHERFLOW_PROFILE: the directory to profile into, created if need be, or none ("off", "0",
// "false", "no" or unset). Error if the path is a file or cannot be created.
std::optional<std::string> profile_directory_from_environment();

// A log level's name, in any case ("warning" too), or none if it is not one.
std::optional<spdlog::level::level_enum> parse_log_level(const std::string& text);
// AETHERFLOW_LOG_LEVEL, or warn when unset. Error if it names no level.
spdlog::level::level_enum log_level_from_environment();

// Every variable above, checked; what a run does first.
void check_environment();

}  // namespace aetherflow::detail
