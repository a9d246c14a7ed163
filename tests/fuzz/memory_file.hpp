#pragma once
// The fuzz input as a file the sources can open by path, without touching the disk.

#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <string_view>

class MemoryFile {
 public:
  explicit MemoryFile(std::string_view content) : fd_(::memfd_create("aetherflow_fuzz", 0)) {
    if (fd_ < 0 ||
        ::write(fd_, content.data(), content.size()) != static_cast<ssize_t>(content.size()))
      __builtin_trap();
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  ~MemoryFile() { ::close(fd_); }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};
