#include <flow/checkpoint.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <boost/crc.hpp>
#include <cereal/archives/portable_binary.hpp>

#include <flow/errors.hpp>

namespace aetherflow {
namespace {

// "\r\n" in the magic number, as in PNG's: a file mangled by a text-mode copy fails at once.
constexpr std::array<char, 8> kMagic{'A', 'F', 'C', 'K', 'P', 'T', '\r', '\n'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kHeaderBytes = kMagic.size() + 4 + 8 + 4;  // magic, version, length, CRC
// Limits a corrupt file cannot push an allocation past.
constexpr std::uint64_t kMaxNameBytes = 4096;
constexpr std::uint64_t kMaxSources = 4096;
constexpr std::uint64_t kMaxFileBytes = std::uint64_t{64} << 20;

template <class Int>
void put_le(std::string& out, Int value) {
  for (std::size_t i = 0; i < sizeof(Int); ++i)
    out.push_back(static_cast<char>((static_cast<std::uint64_t>(value) >> (8 * i)) & 0xff));
}
template <class Int>
Int get_le(std::string_view in, std::size_t at) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < sizeof(Int); ++i)
    value |= std::uint64_t{static_cast<unsigned char>(in[at + i])} << (8 * i);
  return static_cast<Int>(value);
}

std::uint32_t crc32(std::string_view bytes) {
  boost::crc_32_type crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

// cereal's own std::string and std::vector loaders allocate whatever length the file states;
// these check the length against a limit first.
struct Corrupt {
  std::string why;
};

void save_name(cereal::PortableBinaryOutputArchive& ar, const std::string& name) {
  ar(static_cast<std::uint64_t>(name.size()));
  ar(cereal::binary_data(name.data(), name.size()));
}
std::string load_name(cereal::PortableBinaryInputArchive& ar, std::string_view what) {
  std::uint64_t size = 0;
  ar(size);
  if (size > kMaxNameBytes)
    throw Corrupt{fmt::format("has a {} of {} bytes (at most {})", what, size, kMaxNameBytes)};
  std::string name(static_cast<std::size_t>(size), '\0');
  ar(cereal::binary_data(name.data(), name.size()));
  return name;
}

std::string encode_payload(const Checkpoint& c) {
  std::ostringstream out;
  {
    cereal::PortableBinaryOutputArchive ar(out);
    save_name(ar, c.flow);
    ar(static_cast<std::uint64_t>(c.sources.size()));
    for (const auto& s : c.sources) {
      save_name(ar, s.source);
      ar(s.committed.offset, s.committed.items, static_cast<std::uint8_t>(s.finished));
    }
  }
  return std::move(out).str();
}

Checkpoint decode_payload(std::string_view payload) {
  std::istringstream in{std::string(payload)};
  cereal::PortableBinaryInputArchive ar(in);
  Checkpoint c;
  c.flow = load_name(ar, "flow name");
  std::uint64_t count = 0;
  ar(count);
  if (count > kMaxSources)
    throw Corrupt{fmt::format("lists {} sources (at most {})", count, kMaxSources)};
  std::set<std::string> seen;
  for (std::uint64_t i = 0; i < count; ++i) {
    SourceCheckpoint s;
    s.source = load_name(ar, "source name");
    std::uint8_t finished = 0;
    ar(s.committed.offset, s.committed.items, finished);
    if (finished > 1) throw Corrupt{fmt::format("has a finished flag of {}", finished)};
    s.finished = finished != 0;
    if (!seen.insert(s.source).second)
      throw Corrupt{fmt::format("lists source '{}' twice", s.source)};
    c.sources.push_back(std::move(s));
  }
  if (in.peek() != std::char_traits<char>::eof()) throw Corrupt{"has bytes after its last source"};
  return c;
}

[[noreturn]] void throw_errno(std::string_view action, const std::filesystem::path& path) {
  throw CheckpointError(
      fmt::format("cannot {} checkpoint '{}': {}", action, path.string(), std::strerror(errno)));
}

// Closes a file descriptor however the scope is left.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

const SourceCheckpoint* Checkpoint::find(std::string_view source) const {
  auto it = std::ranges::find(sources, source, &SourceCheckpoint::source);
  return it == sources.end() ? nullptr : &*it;
}

bool Checkpoint::finished() const {
  return std::ranges::all_of(sources, &SourceCheckpoint::finished);
}

std::string detail::frame_checkpoint(std::string_view payload) {
  std::string out(kMagic.begin(), kMagic.end());
  put_le(out, kVersion);
  put_le(out, static_cast<std::uint64_t>(payload.size()));
  put_le(out, crc32(payload));
  return out.append(payload);
}

std::string encode_checkpoint(const Checkpoint& checkpoint) {
  return detail::frame_checkpoint(encode_payload(checkpoint));
}

Checkpoint decode_checkpoint(std::string_view bytes, std::string_view origin) {
  auto error = [&](std::string_view why) {
    return CheckpointError(fmt::format("checkpoint '{}' {}", origin, why));
  };
  if (!std::equal(bytes.begin(), bytes.begin() + std::min(bytes.size(), kMagic.size()),
                  kMagic.begin()))
    throw error("is not an AetherFlow checkpoint (wrong magic number)");
  if (bytes.size() < kHeaderBytes)
    throw error(fmt::format("is truncated: {} bytes, shorter than its {}-byte header", bytes.size(),
                            kHeaderBytes));
  const auto version = get_le<std::uint32_t>(bytes, kMagic.size());
  if (version != kVersion)
    throw error(
        fmt::format("has format version {}; this build reads version {}", version, kVersion));
  const auto length = get_le<std::uint64_t>(bytes, kMagic.size() + 4);
  const std::string_view payload = bytes.substr(kHeaderBytes);
  if (length != payload.size())
    throw error(fmt::format("is {}: its header announces {} bytes of data, the file holds {}",
                            length > payload.size() ? "truncated" : "corrupt", length,
                            payload.size()));
  if (get_le<std::uint32_t>(bytes, kMagic.size() + 12) != crc32(payload))
    throw error("is corrupt: its CRC-32 does not match its data");
  try {
    return decode_payload(payload);
  } catch (const Corrupt& e) {
    throw error("is corrupt: it " + e.why);
  } catch (const cereal::Exception& e) {
    throw error(fmt::format("is corrupt: {}", e.what()));
  }
}

Checkpoint read_checkpoint(const std::filesystem::path& path) {
  Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) throw_errno("open", path);
  std::string bytes;
  std::array<char, 1 << 14> buffer;
  while (true) {
    const ssize_t got = ::read(file.fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw_errno("read", path);
    if (got == 0) break;
    bytes.append(buffer.data(), static_cast<std::size_t>(got));
    if (bytes.size() > kMaxFileBytes)
      throw CheckpointError(fmt::format("checkpoint '{}' is corrupt: larger than {} bytes",
                                        path.string(), kMaxFileBytes));
  }
  return decode_checkpoint(bytes, path.string());
}

void write_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint) {
  const std::string bytes = encode_checkpoint(checkpoint);
  std::filesystem::path temporary = path;
  temporary += ".tmp";
  {
    Fd file{::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    if (file.fd < 0) throw_errno("create", temporary);
    for (std::size_t done = 0; done < bytes.size();) {
      const ssize_t put = ::write(file.fd, bytes.data() + done, bytes.size() - done);
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) throw_errno("write", temporary);
      done += static_cast<std::size_t>(put);
    }
    if (::fsync(file.fd) != 0) throw_errno("flush", temporary);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) throw_errno("replace", path);
  // The rename itself is durable once the directory is flushed.
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  Fd directory{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (directory.fd >= 0) ::fsync(directory.fd);
}

}  // namespace aetherflow
