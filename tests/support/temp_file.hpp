#pragma once
// Files for tests, removed at the end of the test.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace aetherflow::testing {

// A fresh path in the test's temporary directory; nothing is created there.
inline std::string temp_path(const std::string& what) {
  static std::atomic<int> counter{0};
  return ::testing::TempDir() + "aetherflow_" + what + "_" + std::to_string(::getpid()) + "_" +
         std::to_string(counter++);
}

// A file with `content` (or none: a path something else will write), removed with its ".tmp"
// sibling at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& content) : path_(temp_path("file")) {
    std::ofstream(path_, std::ios::binary) << content;
  }
  TempFile() : path_(temp_path("file")) {}
  // A path the same in every process: a death test's child writes where its parent reads.
  TempFile(const std::string& content, const std::string& name)
      : path_(::testing::TempDir() + "aetherflow_" + name) {
    std::ofstream(path_, std::ios::binary) << content;
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    std::filesystem::remove(path_);
    std::filesystem::remove(path_ + ".tmp");
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace aetherflow::testing
