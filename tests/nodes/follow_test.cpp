// read_lines in follow mode (LineOptions::follow, like tail -F): lines appended while the run
// goes are delivered, a rotated file is read to its end and then the new one, and a truncated
// file is an error naming it. The run is drained to end it (the source never ends by itself).
// Each step waits for the sink to have the lines before (a latch, not a timer).

#include <chrono>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <flow/aetherflow.hpp>
#include <tests/support/temp_file.hpp>

namespace aetherflow {
namespace {

using namespace std::chrono_literals;
using Lines = std::vector<std::string>;

void append(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::app) << text;
}

// A run following `path` on a thread of its own, until drain() or a failure.
class Follower {
 public:
  explicit Follower(const std::string& path) {
    runner_ = std::thread([this, path] {
      Flow flow("follow");
      flow.source("tail", read_lines(path, {.chunk_size = 16, .follow = true})) >>
          flow.node("sink",
                    [this](std::string_view line) {
                      const std::lock_guard lock(mutex_);
                      lines_.emplace_back(line);
                      changed_.notify_all();
                    },
                    {.concurrency = serial});
      try {
        report_ = flow.run({.threads = 2, .drain = drain_.get_token()});
      } catch (...) {
        const std::lock_guard lock(mutex_);
        failure_ = std::current_exception();
        changed_.notify_all();
      }
    });
  }
  ~Follower() { drain(); }

  // Waits until the sink has `n` lines or the run failed (at most a minute: a bound on a test
  // that would hang); returns the lines.
  Lines wait_for(std::size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 60s, [&] { return lines_.size() >= n || failure_; });
    return lines_;
  }
  std::exception_ptr wait_for_failure() {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 60s, [&] { return failure_ != nullptr; });
    return failure_;
  }
  RunReport drain() {
    drain_.request_stop();
    if (runner_.joinable()) runner_.join();
    return report_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  Lines lines_;
  std::exception_ptr failure_;
  RunReport report_;
  std::stop_source drain_;
  std::thread runner_;
};

TEST(ReadLinesFollow, LinesAppendedAfterTheStartAreDeliveredOnceComplete) {
  testing::TempFile file("a\nb\n");
  Follower follower(file.path());
  EXPECT_EQ(follower.wait_for(2), (Lines{"a", "b"}));
  append(file.path(), "c\npart");  // a line is read once its '\n' is written
  EXPECT_EQ(follower.wait_for(3), (Lines{"a", "b", "c"}));
  append(file.path(), "ial line longer than the chunk\n");
  EXPECT_EQ(follower.wait_for(4), (Lines{"a", "b", "c", "partial line longer than the chunk"}));
  const RunReport r = follower.drain();
  EXPECT_EQ(r.stop_reason, "drain requested");
  EXPECT_FALSE(r.cancelled);
  EXPECT_EQ(r.node("sink").in, 4u);
}

TEST(ReadLinesFollow, ARotatedFileIsReadToItsEndThenTheNewOne) {
  testing::TempFile file("one\n");
  const std::string rotated = file.path() + ".1";
  Follower follower(file.path());
  EXPECT_EQ(follower.wait_for(1), (Lines{"one"}));
  std::filesystem::rename(file.path(), rotated);  // as logrotate does
  append(rotated, "two");  // the writer's last line, before it reopens; no '\n'
  append(file.path(), "three\n");
  EXPECT_EQ(follower.wait_for(3), (Lines{"one", "two", "three"}));
  append(file.path(), "four\n");
  EXPECT_EQ(follower.wait_for(4), (Lines{"one", "two", "three", "four"}));
  follower.drain();
  std::filesystem::remove(rotated);
}

TEST(ReadLinesFollow, ATruncatedFileIsAnErrorNamingIt) {
  testing::TempFile file("one\ntwo\n");
  Follower follower(file.path());
  EXPECT_EQ(follower.wait_for(2), (Lines{"one", "two"}));
  std::filesystem::resize_file(file.path(), 0);
  const std::exception_ptr failure = follower.wait_for_failure();
  ASSERT_TRUE(failure);
  try {
    std::rethrow_exception(failure);
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "tail");
    std::string cause;
    EXPECT_TRUE(find_cause<IoError>(e, [&](const IoError& io) { cause = io.what(); }));
    EXPECT_NE(cause.find("'" + file.path() + "' was truncated while followed"), std::string::npos)
        << cause;
    EXPECT_EQ(e.report().node("sink").in, 2u);
  }
}

}  // namespace
}  // namespace aetherflow
