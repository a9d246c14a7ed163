#include <nodes/detail/input_file.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include <nodes/io_error.hpp>

namespace aetherflow::detail {

InputFile::InputFile(std::string path, std::string who, std::uint64_t start, Shard shard,
                     const ItemBoundary& boundary)
    : path_(std::move(path)), who_(std::move(who)) {
  if (path_ == "-") {
    fd_ = STDIN_FILENO;
    owns_fd_ = false;
  } else {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0)
      throw IoError(fmt::format("{}: cannot open '{}': {}", who_, path_, std::strerror(errno)));
  }
  struct stat info {};
  if (::fstat(fd_, &info) == 0) {
    if (S_ISDIR(info.st_mode)) {
      if (owns_fd_) ::close(fd_);
      throw IoError(fmt::format("{}: cannot read '{}': {}", who_, path_, std::strerror(EISDIR)));
    }
    if (S_ISREG(info.st_mode)) size_ = static_cast<std::uint64_t>(info.st_size);
  }
  if (shard.count > 1) take_share(shard, boundary, start);
  if (start > 0) seek(start);
  if (size_) ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (end_ && offset_ >= *end_) at_end_ = true;
}

void InputFile::take_share(Shard shard, const ItemBoundary& boundary, std::uint64_t& start) {
  if (!size_) {
    if (shard.index > 0) end_ = 0;
    return;
  }
  const std::uint64_t begin = std::min(boundary(*this, shard.begin_of(*size_)), *size_);
  end_ = std::min(boundary(*this, shard.end_of(*size_)), *size_);
  if (start == 0) start = begin;
}

std::uint64_t InputFile::line_start_at_or_after(std::uint64_t x) {
  if (x == 0 || !size_ || x >= *size_) return size_ ? std::min(x, *size_) : x;
  char block[1 << 16];
  for (std::uint64_t at = x - 1; at < *size_;) {
    const ssize_t got = ::pread(fd_, block, sizeof block, static_cast<off_t>(at));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0)
      throw IoError(fmt::format("{}: read error in '{}' at byte offset {}: {}", who_, path_, at,
                                got < 0 ? std::strerror(errno) : "the file got shorter"));
    if (const void* nl = std::memchr(block, '\n', static_cast<std::size_t>(got)))
      return at + static_cast<std::uint64_t>(static_cast<const char*>(nl) - block) + 1;
    at += static_cast<std::uint64_t>(got);
  }
  return *size_;
}

// Where a resumed run starts: the checkpoint's offset, which must still be in the file.
void InputFile::seek(std::uint64_t start) {
  std::string problem;
  if (!size_)
    problem = "it is not a regular file (standard input and pipes cannot seek)";
  else if (start > *size_)
    problem = fmt::format("the file has only {} bytes (did it change?)", *size_);
  else if (::lseek(fd_, static_cast<off_t>(start), SEEK_SET) < 0)
    problem = std::strerror(errno);
  if (!problem.empty()) {
    if (owns_fd_) ::close(fd_);
    throw IoError(
        fmt::format("{}: cannot resume '{}' at byte {}: {}", who_, path_, start, problem));
  }
  offset_ = start;
}

InputFile::InputFile(InputFile&& other) noexcept
    : path_(std::move(other.path_)),
      who_(std::move(other.who_)),
      fd_(std::exchange(other.fd_, -1)),
      owns_fd_(other.owns_fd_),
      at_end_(other.at_end_),
      offset_(other.offset_),
      size_(other.size_),
      end_(other.end_) {}

InputFile::~InputFile() {
  if (fd_ >= 0 && owns_fd_) ::close(fd_);
}

InputFile::Change InputFile::follow_change() {
  struct stat mine {};
  if (::fstat(fd_, &mine) != 0)
    throw IoError(fmt::format("{}: cannot follow '{}': {}", who_, path_, std::strerror(errno)));
  const auto size = static_cast<std::uint64_t>(mine.st_size);
  if (size < offset_)
    throw IoError(fmt::format(
        "{}: '{}' was truncated while followed: it has {} bytes, and {} were read (its lines "
        "would be lost or read twice)",
        who_, path_, size, offset_));
  size_ = size;
  if (size > offset_) {
    at_end_ = false;
    return Change::grown;
  }
  struct stat named {};
  if (::stat(path_.c_str(), &named) == 0 &&
      (named.st_ino != mine.st_ino || named.st_dev != mine.st_dev))
    return Change::rotated;
  return Change::none;
}

bool InputFile::reopen() {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return false;  // renamed away again: the next look finds the new one
    throw IoError(fmt::format("{}: cannot open '{}': {}", who_, path_, std::strerror(errno)));
  }
  ::close(std::exchange(fd_, fd));
  offset_ = 0;
  at_end_ = false;
  size_ = 0;
  return true;
}

std::size_t InputFile::read_fully(char* out, std::size_t n) {
  return read(out, n, false);
}

std::size_t InputFile::read_some(char* out, std::size_t n) {
  return read(out, n, !size_);
}

std::size_t InputFile::read(char* out, std::size_t n, bool stop_when_some) {
  if (end_)
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, *end_ - std::min(*end_, offset_)));
  std::size_t done = 0;
  while (done < n && !at_end_ && !(stop_when_some && done > 0)) {
    const ssize_t got = ::read(fd_, out + done, n - done);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw IoError(fmt::format("{}: read error in '{}' at byte offset {}: {}", who_, path_,
                                offset_, std::strerror(errno)));
    }
    if (got == 0) at_end_ = true;
    done += static_cast<std::size_t>(got);
    offset_ += static_cast<std::uint64_t>(got);
  }
  if (end_ && offset_ >= *end_) at_end_ = true;
  return done;
}

}  // namespace aetherflow::detail
