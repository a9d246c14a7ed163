#include <nodes/sinks.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include <nodes/io_error.hpp>

namespace aetherflow {

struct LineWriter::File {
  std::string path;
  std::size_t buffer_bytes;
  std::string buffer;
  int fd = -1;

  [[noreturn]] void fail(std::string_view action) const {
    throw IoError(
        fmt::format("write_lines: cannot {} '{}': {}", action, path, std::strerror(errno)));
  }
  void open() {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail("open");
  }
  void write_buffer() {
    for (std::size_t done = 0; done < buffer.size();) {
      const ssize_t put = ::write(fd, buffer.data() + done, buffer.size() - done);
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) fail("write");
      done += static_cast<std::size_t>(put);
    }
    buffer.clear();
  }
  void close() {
    const int closing = std::exchange(fd, -1);
    if (::close(closing) != 0) fail("close");
  }
  ~File() {
    if (fd >= 0) ::close(fd);
  }
};

LineWriter::LineWriter(std::string path, std::size_t buffer_bytes)
    : file_(std::make_shared<File>(File{std::move(path), buffer_bytes, {}, -1})) {}

void LineWriter::operator()(std::string_view line) {
  File& f = *file_;
  if (f.fd < 0) f.open();
  f.buffer.append(line);
  f.buffer.push_back('\n');
  if (f.buffer.size() >= f.buffer_bytes) f.write_buffer();
}

void LineWriter::finish() {
  File& f = *file_;
  if (f.fd < 0) f.open();  // a run without lines still leaves an empty file
  try {
    f.write_buffer();
    if (::fsync(f.fd) != 0) f.fail("flush");
  } catch (...) {
    f.buffer.clear();  // the next run starts clean
    ::close(std::exchange(f.fd, -1));
    throw;
  }
  f.close();
}

}  // namespace aetherflow
