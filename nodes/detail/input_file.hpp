#pragma once
// A file, or standard input ("-"), read from start to end, with errors that name the path.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <flow/cluster.hpp>

namespace aetherflow::detail {

// Where a reader's items may start, at or after byte `x` of the file (`x` itself at the end).
using ItemBoundary = std::function<std::uint64_t(class InputFile&, std::uint64_t x)>;

class InputFile {
 public:
  // Opens `path` ("-": standard input) and moves to byte `start`; IoError naming `who`, the
  // path and the reason if it cannot (errno text; a start past the end, or on a pipe).
  // With a shard of several (flow/cluster.hpp), only the shard's part is read: from the item
  // boundary at or after its even share's first byte up to the next shard's, so that every
  // item is read by exactly one shard; `start` 0 is the part's beginning. Standard input and
  // pipes cannot be split: shard 0 reads all of it, the others nothing.
  InputFile(std::string path, std::string who, std::uint64_t start = 0, Shard shard = {},
            const ItemBoundary& boundary = {});
  InputFile(InputFile&& other) noexcept;
  InputFile& operator=(InputFile&&) = delete;
  ~InputFile();

  // Reads until `n` bytes or the end of the input; returns the bytes read. IoError naming the
  // path and byte offset on a read error.
  std::size_t read_fully(char* out, std::size_t n);
  // The same on a regular file; on a pipe or terminal, returns once a read got some bytes:
  // what a live stream has sent so far, without waiting for `n` of them.
  std::size_t read_some(char* out, std::size_t n);
  bool at_end() const noexcept { return at_end_; }
  std::uint64_t offset() const noexcept { return offset_; }             // bytes read so far
  std::optional<std::uint64_t> size() const noexcept { return size_; }  // regular files only
  const std::string& path() const noexcept { return path_; }
  // The first byte after a '\n' at or after byte x - 1 (0 for 0, the size past the last line):
  // where a line starts. Reads with pread, leaving the offset where it is.
  std::uint64_t line_start_at_or_after(std::uint64_t x);

  // Following a regular file at its end (LineOptions::follow, like tail -F): what changed
  // since. `grown`: more to read (at_end() is false again); `rotated`: nothing more here, and
  // the path names another file now (the old one renamed away); IoError naming the path if
  // the file got shorter than what was read (truncated).
  enum class Change { none, grown, rotated };
  Change follow_change();
  // Reads the file now at the path, from its start. False if there is none any more.
  bool reopen();

 private:
  std::size_t read(char* out, std::size_t n, bool stop_when_some);
  void seek(std::uint64_t start);
  void take_share(Shard shard, const ItemBoundary& boundary, std::uint64_t& start);

  std::string path_;
  std::string who_;
  int fd_ = -1;
  bool owns_fd_ = true;
  bool at_end_ = false;
  std::uint64_t offset_ = 0;
  std::optional<std::uint64_t> size_;
  std::optional<std::uint64_t> end_;  // a shard's: reading stops there
};

}  // namespace aetherflow::detail
