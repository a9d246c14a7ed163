#pragma once
// Raw byte sources, in bounded memory:
//
//   flow.source("blocks", aetherflow::read_chunks("data.bin", 1 << 20));   // items: Chunk
//   flow.source("ticks", aetherflow::read_records("ticks.bin", 32));       // items: 32-byte spans
//
// read_chunks emits pieces of `bytes` bytes (the last one shorter), each owning its pooled
// buffer. read_records emits fixed-size records as views into pooled chunks, valid while the
// item is processed, like read_lines; a file that ends in a partial record is an IoError
// naming the file and the offset of that record.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <contexts/buffer_pool.hpp>
#include <flow/source.hpp>
#include <nodes/detail/input_file.hpp>
#include <nodes/io_error.hpp>

namespace aetherflow {

// A piece of a file that owns its bytes: keep it as long as you like.
struct Chunk {
  std::shared_ptr<const Buffer> buffer;
  std::uint64_t offset = 0;  // of its first byte in the file

  std::span<const std::byte> bytes() const { return buffer->bytes(); }
  std::string_view text() const { return {buffer->chars(), buffer->size()}; }
  std::size_t size() const { return buffer->size(); }
};

class ChunkSource {
 public:
  using item_type = Chunk;
  ChunkSource(std::string path, std::size_t bytes);

  class Reader {
   public:
    explicit Reader(const ChunkSource& source, ResumePoint from = {}, Shard shard = {});
    bool fill(SourceBatch<Chunk>& batch);  // one chunk per batch: chunks are large
    SourcePosition position() const { return {file_.offset(), file_.size()}; }

   private:
    detail::InputFile file_;
    std::size_t bytes_;
    std::shared_ptr<BufferPool> pool_;
  };
  Reader open() const { return Reader(*this); }
  Reader open(ResumePoint from) const { return Reader(*this, from); }  // at byte from.offset
  // A rank's share: the chunks a whole-file read would make, split by number.
  Reader open(ResumePoint from, Shard shard) const { return Reader(*this, from, shard); }

 private:
  std::string path_;
  std::size_t bytes_;
  std::shared_ptr<BufferPool> pool_;
};

class RecordSource {
 public:
  using item_type = std::span<const std::byte>;
  RecordSource(std::string path, std::size_t record_size, std::size_t chunk_size);

  class Reader {
   public:
    explicit Reader(const RecordSource& source, ResumePoint from = {}, Shard shard = {});
    bool fill(SourceBatch<std::span<const std::byte>>& batch);
    SourcePosition position() const { return {chunk_offset_ + pos_, file_.size()}; }

   private:
    detail::InputFile file_;
    std::size_t record_size_;
    std::size_t chunk_bytes_;  // a whole number of records
    std::shared_ptr<BufferPool> pool_;
    std::shared_ptr<Buffer> chunk_;
    std::size_t pos_ = 0;
    std::size_t valid_ = 0;
    std::uint64_t chunk_offset_ = 0;
  };
  Reader open() const { return Reader(*this); }
  // At byte from.offset, which must start a record.
  Reader open(ResumePoint from) const { return Reader(*this, from); }
  // A rank's share: the file's records, split by number.
  Reader open(ResumePoint from, Shard shard) const { return Reader(*this, from, shard); }

 private:
  std::string path_;
  std::size_t record_size_;
  std::size_t chunk_bytes_;
  std::shared_ptr<BufferPool> pool_;
};

inline ChunkSource read_chunks(std::string path, std::size_t bytes) {
  return ChunkSource(std::move(path), bytes);
}

// Records are read `chunk_size` bytes at a time (rounded down to whole records, at least one).
inline RecordSource read_records(std::string path, std::size_t record_size,
                                 std::size_t chunk_size = std::size_t{1} << 20) {
  return RecordSource(std::move(path), record_size, chunk_size);
}

}  // namespace aetherflow
