// The environment variables a run reads: clear values, and an Error naming the variable and
// its value, before any data moves, for one that cannot be understood.
#include <flow/aetherflow.hpp>
#include <flow/detail/environment.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ranges>
#include <string>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

// Sets a variable for the scope of a test, and unsets it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

std::filesystem::path scratch(const std::string& name) {
  auto path = std::filesystem::path(::testing::TempDir()) /
              ("aetherflow_env_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(path);
  return path;
}

// A flow counting the items its sink received.
struct Counting {
  Flow flow{"env_flow"};
  std::atomic<int> received = 0;
  Counting() {
    auto src = flow.source("numbers", std::views::iota(0, 100));
    auto sink = flow.node("sink", [this](int) { ++received; });
    src >> sink;
  }
};

TEST(Environment, ProfileOffMeansOffAndCreatesNothing) {
  const auto cwd = std::filesystem::current_path();
  const auto dir = scratch("cwd");
  std::filesystem::create_directories(dir);
  std::filesystem::current_path(dir);
  for (const std::string off : {"0", "off", "OFF", "false", "no", ""}) {
    SCOPED_TRACE("AETHERFLOW_PROFILE='" + off + "'");
    ScopedEnv env("AETHERFLOW_PROFILE", off);
    Counting c;
    const RunReport report = c.flow.run({.threads = 2});
    EXPECT_FALSE(report.profile);
    EXPECT_TRUE(std::filesystem::is_empty(dir)) << "a directory named after the value";
  }
  std::filesystem::current_path(cwd);
  std::filesystem::remove_all(dir);
}

TEST(Environment, ProfileNamingAFileIsAnErrorBeforeTheRun) {
  const auto file = scratch("a_file");
  std::ofstream(file) << "not a directory";
  ScopedEnv env("AETHERFLOW_PROFILE", file.string());
  Counting c;
  try {
    c.flow.run({.threads = 2});
    FAIL() << "a file is no profile directory";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("AETHERFLOW_PROFILE='" + file.string() +
                                         "' is a file, not a directory"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(c.received.load(), 0) << "the error comes before any data moves";
  std::filesystem::remove(file);
}

TEST(Environment, EachProfiledRunOfAFlowKeepsItsOwnFiles) {
  const auto dir = scratch("profiles");
  ScopedEnv env("AETHERFLOW_PROFILE", dir.string());
  Counting c;
  c.flow.run({.threads = 2});
  c.flow.run({.threads = 1});
  c.flow.run({.threads = 2});
  for (const std::string base : {"env_flow", "env_flow-2", "env_flow-3"})
    for (const char* suffix : {".profile.json", ".trace.json", ".prom", ".dot"})
      EXPECT_TRUE(std::filesystem::exists(dir / (base + suffix))) << base << suffix;
  // The second run's profile is the second run's: one thread.
  std::ifstream second(dir / "env_flow-2.profile.json");
  const std::string json((std::istreambuf_iterator<char>(second)), {});
  EXPECT_EQ(profile_from_json(json).threads, 1u);
  std::filesystem::remove_all(dir);
}

TEST(Environment, LogLevelsInAnyCaseAndUnknownOnesRefused) {
  EXPECT_EQ(detail::parse_log_level("DEBUG"), spdlog::level::debug);
  EXPECT_EQ(detail::parse_log_level("Warning"), spdlog::level::warn);
  EXPECT_EQ(detail::parse_log_level("off"), spdlog::level::off);
  EXPECT_EQ(detail::parse_log_level("verbose"), std::nullopt);
  {
    ScopedEnv env("AETHERFLOW_LOG_LEVEL", "");
    EXPECT_EQ(detail::log_level_from_environment(), spdlog::level::warn) << "empty: the default";
  }
  {
    ScopedEnv env("AETHERFLOW_LOG_LEVEL", "INFO");
    EXPECT_EQ(detail::log_level_from_environment(), spdlog::level::info);
    Counting c;
    EXPECT_NO_THROW(c.flow.run({.threads = 1}));
  }
  ScopedEnv env("AETHERFLOW_LOG_LEVEL", "debgu");
  Counting c;
  try {
    c.flow.run({.threads = 1});
    FAIL() << "a typo is no log level";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("AETHERFLOW_LOG_LEVEL='debgu' is not a log level"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(c.received.load(), 0);
}

TEST(Environment, ThreadsMustBeACount) {
  for (const std::string bad : {"many", "-1", "0", "3x", " 2"}) {
    ScopedEnv env("AETHERFLOW_THREADS", bad);
    EXPECT_THROW(detail::threads_from_environment(), Error) << bad;
  }
  ScopedEnv env("AETHERFLOW_THREADS", "");
  EXPECT_EQ(detail::threads_from_environment(), 0u);
}

}  // namespace
}  // namespace aetherflow
