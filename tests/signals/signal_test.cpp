// RunOptions::stop_on_signals. In this process: a SIGTERM raised during the run drains it,
// and the handlers there were before come back after it. In a child process
// (tests/signals/child.cpp), signalled by the test as a user or a supervisor would: SIGTERM
// drains, writes the final checkpoint and exits 0, and the resume writes the rest, every
// number exactly once; a second signal cancels at once.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <numeric>
#include <ranges>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <flow/aetherflow.hpp>
#include <tests/support/temp_file.hpp>

extern char** environ;

namespace aetherflow {
namespace {

using namespace std::chrono_literals;
using testing::TempFile;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<int> numbers_in(const std::string& path) {
  std::vector<int> numbers;
  std::ifstream in(path);
  for (int x; in >> x;) numbers.push_back(x);
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

std::vector<int> range(int begin, int end) {
  std::vector<int> v(static_cast<std::size_t>(end - begin));
  std::iota(v.begin(), v.end(), begin);
  return v;
}

// Polls `done` until it holds, or 60 s have passed: a bound on a test that would hang.
template <class Done>
bool within_a_minute(Done done) {
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// The child of tests/signals/child.cpp, its standard output in a file of its own.
class Child {
 public:
  Child(const std::string& checkpoint, const std::string& output, int n, int delay_us) {
    const std::string count = std::to_string(n), delay = std::to_string(delay_us);
    std::vector<char*> argv = {
        const_cast<char*>(AETHERFLOW_SIGNAL_CHILD), const_cast<char*>(checkpoint.c_str()),
        const_cast<char*>(output.c_str()),          const_cast<char*>(count.c_str()),
        const_cast<char*>(delay.c_str()),           nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, said_.path().c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    started_ = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) == 0;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (started_ && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return started_; }
  // Sends `signal` and waits until the child has taken it (it no longer shows as pending), so
  // that a second one is not merged into the first.
  bool signal(int signal) const {
    ::kill(pid_, signal);
    return within_a_minute([&] { return !pending(signal); });
  }
  // What it wrote to its standard output.
  std::string said() const { return read_all(said_.path()); }
  bool said_ready() const { return said().find("ready\n") != std::string::npos; }
  // Its exit code, or -1 if it did not exit normally within a minute (then it is killed).
  bool pending(int signal) const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("ShdPnd:", 0) == 0 || line.rfind("SigPnd:", 0) == 0)
        if (std::stoull(line.substr(7), nullptr, 16) & (1ull << (signal - 1))) return true;
    return false;
  }
  int exit_code() {
    int status = 0;
    if (!within_a_minute([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; })) return -1;
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  TempFile said_;
  pid_t pid_ = 0;
  bool started_ = false, exited_ = false;
};

TEST(Signals, ARaisedSigtermDrainsTheRunAndTheHandlersBeforeComeBack) {
  struct sigaction before = {};
  ::sigaction(SIGTERM, nullptr, &before);
  Flow flow("raised");
  flow.source("numbers", std::views::iota(0, 1'000'000)) >>
      flow.node("watch",
                [seen = 0](int x) mutable {
                  if (++seen == 1000) std::raise(SIGTERM);  // the run's handler takes it
                  return x;
                },
                {.concurrency = serial}) >>
      flow.node("sink", [](int) {});
  const RunReport r = flow.run({.threads = 2, .batch_size = 64, .stop_on_signals = true});
  EXPECT_FALSE(r.cancelled);
  EXPECT_EQ(r.stop_reason, "SIGTERM received: drained");
  EXPECT_LT(r.node("numbers").out, 1'000'000u);
  EXPECT_EQ(r.node("sink").in, r.node("numbers").out) << "what the source emitted was processed";
  struct sigaction after = {};
  ::sigaction(SIGTERM, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

TEST(Signals, SigtermDrainsWritesTheLastCheckpointAndExitsZeroThenTheResumeWritesTheRest) {
  constexpr int kNumbers = 300'000;
  TempFile checkpoint, output;
  {
    Child child(checkpoint.path(), output.path(), kNumbers, 20);
    ASSERT_TRUE(child.started());
    ASSERT_TRUE(within_a_minute([&] { return numbers_in(output.path()).size() >= 1000; }));
    ASSERT_TRUE(child.signal(SIGTERM));
    EXPECT_EQ(child.exit_code(), 0) << child.said();
    EXPECT_NE(child.said().find("SIGTERM received: drained"), std::string::npos) << child.said();
  }
  const std::vector<int> first = numbers_in(output.path());
  ASSERT_LT(first.size(), static_cast<std::size_t>(kNumbers)) << "the run stopped early";
  EXPECT_EQ(first, range(0, static_cast<int>(first.size()))) << "each number once, no gap";
  const Checkpoint saved = read_checkpoint(checkpoint.path());
  ASSERT_EQ(saved.sources.size(), 1u);
  EXPECT_EQ(saved.sources[0].committed.items, first.size()) << "it commits what it drained";
  EXPECT_FALSE(saved.sources[0].finished);

  Child resumed(checkpoint.path(), output.path(), kNumbers, 0);
  ASSERT_TRUE(resumed.started());
  EXPECT_EQ(resumed.exit_code(), 0) << resumed.said();
  EXPECT_EQ(numbers_in(output.path()), range(0, kNumbers)) << "every number exactly once";
}

TEST(Signals, ASecondSignalCancelsAtOnce) {
  // 20 ms an item: draining the batches in flight would take seconds; the second SIGINT
  // cancels them, which the exit code (3: cancelled) and the reason tell.
  TempFile checkpoint, output;
  Child child(checkpoint.path(), output.path(), 100'000, 20'000);
  ASSERT_TRUE(child.started());
  ASSERT_TRUE(within_a_minute([&] { return child.said_ready(); }));
  ASSERT_TRUE(child.signal(SIGINT));
  ASSERT_TRUE(child.signal(SIGINT));
  EXPECT_EQ(child.exit_code(), 3) << child.said();
  EXPECT_NE(child.said().find("SIGINT received again: cancelled"), std::string::npos)
      << child.said();
  EXPECT_TRUE(std::filesystem::exists(checkpoint.path())) << "a cancelled run checkpoints too";
}

}  // namespace
}  // namespace aetherflow
