// Streaming sources: line splitting at every chunk boundary, byte-exact round trips, errors
// that name the file, standard input, progress, back-pressure, records and raw chunks.
#include <flow/aetherflow.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "../support/temp_file.hpp"

namespace aetherflow {
namespace {

using testing::TempFile;

// The lines read_lines yields, in order, copied out of their chunks.
std::vector<std::string> lines_of(const std::string& path, LineOptions options = {},
                                  RunOptions run = {}) {
  std::vector<std::string> lines;
  Flow flow("lines");
  auto src = flow.source("read", read_lines(path, options));
  auto sink = flow.node("collect", [&](std::string_view line) { lines.emplace_back(line); },
                        {.ordered = true});
  src >> sink;
  flow.run(run);
  return lines;
}

using Lines = std::vector<std::string>;

TEST(ReadLines, SplitsLinesAndDropsTheirEndings) {
  EXPECT_EQ(lines_of(TempFile("").path()), Lines{});
  EXPECT_EQ(lines_of(TempFile("one\ntwo\n").path()), (Lines{"one", "two"}));
  EXPECT_EQ(lines_of(TempFile("one\ntwo").path()), (Lines{"one", "two"}));  // no final newline
  EXPECT_EQ(lines_of(TempFile("\n\nx\n\n").path()), (Lines{"", "", "x", ""}));
  EXPECT_EQ(lines_of(TempFile("a\r\nb\r\n\r\nc").path()), (Lines{"a", "b", "", "c"}));
  EXPECT_EQ(lines_of(TempFile("lone\rcr\n").path()), (Lines{"lone\rcr"}));  // only CRLF ends a line
}

TEST(ReadLines, EveryChunkBoundaryGivesTheSameLinesAndAByteExactRoundTrip) {
  const std::string content =
      "first line\n\nthird, longer than a few chunks of the smallest sizes\r\nx\ny\r\n\r\nlast";
  const Lines expected{"first line", "",  "third, longer than a few chunks of the smallest sizes",
                       "x",          "y", "",
                       "last"};
  for (std::size_t chunk = 1; chunk <= content.size() + 1; ++chunk) {
    TempFile file(content);
    EXPECT_EQ(lines_of(file.path(), {.chunk_size = chunk}, {.batch_size = 3}), expected)
        << "chunk size " << chunk;
    std::string joined;
    for (const auto& line : lines_of(file.path(), {.chunk_size = chunk, .keep_line_endings = true}))
      joined += line;
    EXPECT_EQ(joined, content) << "chunk size " << chunk;
  }
}

TEST(ReadLines, ALargeFileStreamsInManySmallChunks) {
  std::string content;
  for (int i = 0; i < 20000; ++i) content += "line " + std::to_string(i) + "\n";
  TempFile file(content);
  const Lines lines = lines_of(file.path(), {.chunk_size = 4096}, {.threads = 2});
  ASSERT_EQ(lines.size(), 20000u);
  for (int i = 0; i < 20000; i += 997) EXPECT_EQ(lines[i], "line " + std::to_string(i));
}

TEST(ReadLines, ALineLongerThanTheLimitIsAnErrorNamingFileAndLine) {
  TempFile file("short\nalso short\n" + std::string(5000, 'x') + "\nafter\n");
  try {
    lines_of(file.path(), {.chunk_size = 64, .max_line_length = 1024});
    FAIL() << "expected an error";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "read");
    try {
      std::rethrow_if_nested(e);
    } catch (const IoError& io) {
      EXPECT_NE(std::string(io.what()).find("line 3 of '" + file.path() +
                                            "' is longer than "
                                            "max_line_length (1024 bytes)"),
                std::string::npos)
          << io.what();
    }
  }
  // A long line within the limit makes the chunk grow, and reads fine.
  EXPECT_EQ(lines_of(file.path(), {.chunk_size = 64, .max_line_length = 8192}).size(), 4u);
}

// As a read error mid-file is: a NodeError naming the source node, with the IoError nested,
// so that one catch handles both.
TEST(ReadLines, AMissingFileIsAnErrorBeforeAnyDataMoves) {
  const std::string path = ::testing::TempDir() + "no_such_file.log";
  for (const std::string& missing : {path, ::testing::TempDir()}) {  // a directory too
    try {
      lines_of(missing);
      FAIL() << "expected a NodeError";
    } catch (const NodeError& e) {
      EXPECT_EQ(e.node(), "read");
      EXPECT_EQ(e.stage(), NodeError::Stage::open);
      EXPECT_NE(std::string(e.what()).find("node 'read' could not open its input: "),
                std::string::npos)
          << e.what();
      std::string cause;
      EXPECT_TRUE(find_cause<IoError>(e, [&](const IoError& io) { cause = io.what(); }));
      if (missing == path)
        EXPECT_EQ(cause, "read_lines: cannot open '" + path + "': No such file or directory");
      else
        EXPECT_NE(cause.find("'" + missing + "'"), std::string::npos) << cause;
      EXPECT_EQ(e.report().node("read").out, 0u);
    }
  }
}

TEST(ReadLines, ReadsStandardInputFromDash) {
  TempFile file("from\nstdin\n");
  const int saved = ::dup(STDIN_FILENO);
  const int fd = ::open(file.path().c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ::dup2(fd, STDIN_FILENO);
  ::close(fd);
  const Lines lines = lines_of("-");
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  EXPECT_EQ(lines, (Lines{"from", "stdin"}));
}

// A live stream on a pipe: lines leave as they arrive, not when a chunk fills or the pipe
// closes. The writer waits (a latch, not a timer) for the sink to have the first two lines
// before it writes the last and closes.
TEST(ReadLines, APipesLinesLeaveAsTheyArriveBeforeThePipeCloses) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::mutex mutex;
  std::condition_variable arrived;
  Lines got;
  std::thread runner([&] {
    Flow flow("pipe");
    flow.source("read", read_lines("/dev/fd/" + std::to_string(fds[0]))) >>
        flow.node("sink", [&](std::string_view line) {
          const std::lock_guard lock(mutex);
          got.emplace_back(line);
          arrived.notify_all();
        });
    flow.run({.threads = 2});
  });
  ASSERT_EQ(::write(fds[1], "one\ntwo\n", 8), 8);
  bool both_before_close = false;
  {
    std::unique_lock lock(mutex);
    both_before_close =
        arrived.wait_for(lock, std::chrono::seconds(60), [&] { return got.size() == 2; });
  }
  ASSERT_EQ(::write(fds[1], "three\n", 6), 6);
  ::close(fds[1]);
  runner.join();
  ::close(fds[0]);
  EXPECT_TRUE(both_before_close);
  EXPECT_EQ(got, (Lines{"one", "two", "three"}));
}

TEST(ReadLines, ReportsProgressInBytesWithTheTotal) {
  std::string content;
  for (int i = 0; i < 5000; ++i) content += "progress line\n";
  TempFile file(content);
  std::vector<Progress> reports;
  Flow flow("progress");
  auto src = flow.source("read", read_lines(file.path(), {.chunk_size = 1024}));
  auto sink = flow.node("sink", [](std::string_view) {});
  src >> sink;
  flow.run({.progress = [&](const Progress& p) { reports.push_back(p); },
            .progress_interval = std::chrono::milliseconds(0)});
  ASSERT_FALSE(reports.empty());
  const Progress& last = reports.back();
  EXPECT_TRUE(last.done);
  EXPECT_EQ(last.items, 5000u);
  EXPECT_EQ(last.bytes, content.size());
  ASSERT_TRUE(last.total_bytes.has_value());
  EXPECT_EQ(*last.total_bytes, content.size());
  EXPECT_DOUBLE_EQ(*last.fraction(), 1.0);
  for (std::size_t i = 1; i < reports.size(); ++i)
    EXPECT_GE(reports[i].bytes, reports[i - 1].bytes);
  EXPECT_NE(ProgressBar("read").line(last, 80).find("100.0%"), std::string::npos);
}

// Counts what it produced, so a sink can see how far the source ran ahead of it.
struct CountingSource {
  using item_type = int;
  std::atomic<int>* produced;
  int total;
  struct Reader {
    std::atomic<int>* produced;
    int left;
    bool fill(SourceBatch<int>& batch) {
      while (!batch.full() && left > 0) {
        batch.push(left--);
        ++*produced;
      }
      return left > 0;
    }
  };
  Reader open() const { return Reader{produced, total}; }
};

TEST(BackPressure, ASlowSinkNeverHasMoreThanTheBoundInFlight) {
  std::atomic<int> produced{0};
  int consumed = 0, worst = 0;
  constexpr std::size_t batch = 10, in_flight = 3;
  Flow flow("slow");
  auto src = flow.source("counting", CountingSource{&produced, 5000});
  auto pass = flow.node("pass", [](int x) { return x; });
  auto sink = flow.node("slow_sink", [&](int) {
    std::this_thread::sleep_for(std::chrono::microseconds(20));
    ++consumed;
    worst = std::max(worst, produced.load() - consumed);
  });
  src >> pass >> sink;
  flow.run({.threads = 4, .batch_size = batch, .max_batches_in_flight = in_flight});
  EXPECT_EQ(consumed, 5000);
  // The limiter admits `in_flight` batches; the source may hold one more, made and waiting.
  EXPECT_LE(worst, static_cast<int>((in_flight + 1) * batch));
}

TEST(ReadRecords, EmitsFixedSizeRecordsAndRejectsAPartialOne) {
  std::string content;
  for (char c = 'a'; c < 'a' + 10; ++c) content += std::string(8, c);
  TempFile file(content);
  std::string seen;
  Flow flow("records");
  auto src = flow.source("records", read_records(file.path(), 8, 24));
  auto sink = flow.node("collect",
                        [&](std::span<const std::byte> r) {
                          ASSERT_EQ(r.size(), 8u);
                          seen += static_cast<char>(r[0]);
                        },
                        {.ordered = true});
  src >> sink;
  flow.run({.batch_size = 2});
  EXPECT_EQ(seen, "abcdefghij");

  TempFile partial(content + "xyz");
  Flow bad("partial");
  auto bad_src = bad.source("records", read_records(partial.path(), 8, 24));
  auto bad_sink = bad.node("sink", [](std::span<const std::byte>) {});
  bad_src >> bad_sink;
  try {
    bad.run();
    FAIL();
  } catch (const NodeError& e) {
    EXPECT_NE(std::string(e.what()).find("ends with a partial record: 3 bytes at offset 80"),
              std::string::npos)
        << e.what();
  }
}

TEST(ReadChunks, CoversTheFileInOrder) {
  std::string content;
  for (int i = 0; i < 2500; ++i) content += static_cast<char>('a' + i % 26);
  TempFile file(content);
  std::string joined;
  std::vector<std::uint64_t> offsets;
  Flow flow("chunks");
  auto src = flow.source("chunks", read_chunks(file.path(), 1000));
  auto sink = flow.node("collect",
                        [&](const Chunk& c) {
                          joined += c.text();
                          offsets.push_back(c.offset);
                        },
                        {.ordered = true});
  src >> sink;
  flow.run();
  EXPECT_EQ(joined, content);
  EXPECT_EQ(offsets, (std::vector<std::uint64_t>{0, 1000, 2000}));
}

}  // namespace
}  // namespace aetherflow
