#pragma once
// The hand-written baseline of the streaming benchmarks: read() into a 1 MiB buffer and
// memchr for the lines, as a C programmer would write it.

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace aetherflow::bench {

// Calls on_line for each line of the file at `path`.
template <class OnLine>
void hand_read_lines(const std::string& path, OnLine&& on_line) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  std::vector<char> buffer(1 << 20);
  std::size_t carry = 0;
  while (true) {
    const ssize_t got = ::read(fd, buffer.data() + carry, buffer.size() - carry);
    if (got <= 0) break;
    const std::size_t valid = carry + static_cast<std::size_t>(got);
    std::size_t pos = 0;
    while (const void* nl = std::memchr(buffer.data() + pos, '\n', valid - pos)) {
      const std::size_t end = static_cast<const char*>(nl) - buffer.data();
      on_line(std::string_view(buffer.data() + pos, end - pos));
      pos = end + 1;
    }
    carry = valid - pos;
    std::memmove(buffer.data(), buffer.data() + pos, carry);
  }
  if (carry) on_line(std::string_view(buffer.data(), carry));
  ::close(fd);
}

}  // namespace aetherflow::bench
