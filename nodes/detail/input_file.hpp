#pragma once
// A file, or standard input ("-"), read from start to end, with errors that name the path.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace aetherflow::detail {

class InputFile {
 public:
  // Opens `path` ("-": standard input) and moves to byte `start`; IoError naming `who`, the
  // path and the reason if it cannot (errno text; a start past the end, or on a pipe).
  InputFile(std::string path, std::string who, std::uint64_t start = 0);
  InputFile(InputFile&& other) noexcept;
  InputFile& operator=(InputFile&&) = delete;
  ~InputFile();

  // Reads until `n` bytes or the end of the input; returns the bytes read. IoError naming the
  // path and byte offset on a read error.
  std::size_t read_fully(char* out, std::size_t n);
  bool at_end() const noexcept { return at_end_; }
  std::uint64_t offset() const noexcept { return offset_; }             // bytes read so far
  std::optional<std::uint64_t> size() const noexcept { return size_; }  // regular files only
  const std::string& path() const noexcept { return path_; }

 private:
  void seek(std::uint64_t start);

  std::string path_;
  std::string who_;
  int fd_ = -1;
  bool owns_fd_ = true;
  bool at_end_ = false;
  std::uint64_t offset_ = 0;
  std::optional<std::uint64_t> size_;
};

}  // namespace aetherflow::detail
